//! "Copy as cURL" (bash) commands -> exchanges: a file or stdin of one or more `curl`
//! commands, as browsers' DevTools and API tools write them. cURL commands carry no
//! answers and no timing, so an import from them has no captures found from responses
//! and no think times.

use url::Url;

use super::recording::Exchange;

/// The exchanges of the `curl` commands in `text`, read from `origin` (for errors).
pub fn read(origin: &str, text: &str) -> Result<Vec<Exchange>, String> {
    let commands = split_commands(text).map_err(|(line, why)| format!("{origin}:{line}: {why}"))?;
    if commands.is_empty() {
        return Err(format!("{origin}: no curl command in it"));
    }
    commands
        .iter()
        .map(|(line, words)| command(words).map_err(|why| format!("{origin}:{line}: {why}")))
        .collect()
}

/// Flags that take no value and change nothing a scenario keeps.
const IGNORED: &[&str] = &[
    "--compressed",
    "-k",
    "--insecure",
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-sS",
    "-L",
    "--location",
    "-i",
    "--include",
    "-v",
    "--verbose",
    "-g",
    "--globoff",
    "--http1.1",
    "--http2",
    "-f",
    "--fail",
];

fn command(words: &[String]) -> Result<Exchange, String> {
    let (program, args) = words.split_first().ok_or("an empty command")?;
    if program != "curl" {
        return Err(format!("{program:?} is not a curl command"));
    }
    let mut method = None;
    let mut url = None;
    let mut headers = Vec::new();
    let mut data: Vec<String> = Vec::new();
    let mut get = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-X" | "--request" => method = Some(value()?),
            "-H" | "--header" => {
                let header = value()?;
                let (name, value) = header
                    .split_once(':')
                    .ok_or_else(|| format!("header {header:?} is not NAME: VALUE"))?;
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-ascii" | "--data-urlencode" => {
                let body = value()?;
                if body.starts_with('@') && arg != "--data-raw" {
                    return Err(format!(
                        "{arg} {body}: reads a file, which the import does not follow; paste its contents with --data-raw"
                    ));
                }
                data.push(body);
            }
            "--json" => {
                data.push(value()?);
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            "-b" | "--cookie" => headers.push(("Cookie".into(), value()?)),
            "-u" | "--user" => {
                use base64::Engine as _;
                let credentials = base64::engine::general_purpose::STANDARD.encode(value()?);
                headers.push(("Authorization".into(), format!("Basic {credentials}")));
            }
            "-A" | "--user-agent" | "-e" | "--referer" => {
                value()?;
            }
            "-G" | "--get" => get = true,
            "--url" => url = Some(value()?),
            flag if IGNORED.contains(&flag) => {}
            flag if flag.starts_with('-') => return Err(format!("curl flag {flag} is not understood")),
            positional => url = Some(positional.to_owned()),
        }
    }
    let url_text = url.ok_or("no URL")?;
    let mut url = Url::parse(&url_text).map_err(|e| format!("{url_text:?} is not a URL ({e})"))?;
    let joined = (!data.is_empty()).then(|| data.join("&"));
    let body = if get {
        if let Some(query) = &joined {
            let full = match url.query() {
                Some(existing) => format!("{existing}&{query}"),
                None => query.clone(),
            };
            url.set_query(Some(&full));
        }
        None
    } else {
        joined
    };
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.to_owned());
    Ok(Exchange {
        method,
        url,
        headers,
        body,
        resource: None,
        timing: None,
        answer: None,
    })
}

/// A command's first line and its shell words.
type Command = (usize, Vec<String>);

/// Shell words of each command, with the line each starts on: quotes ('', "", $''),
/// backslash escapes and continuations, commands ended by a newline, `;` or `&&`, and
/// `#` comments, as bash reads them.
fn split_commands(text: &str) -> Result<Vec<Command>, (usize, String)> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let mut end_command = |words: &mut Vec<String>, start: usize| {
        if !words.is_empty() {
            commands.push((start, std::mem::take(words)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') => line += 1,
                Some(escaped) => word.get_or_insert_with(String::new).push(escaped),
                None => {}
            },
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => {
                            line += usize::from(ch == '\n');
                            w.push(ch);
                        }
                        None => return Err((line, "a ' quote is not closed".into())),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => w.push(ch),
                            Some('\n') => line += 1,
                            Some(ch) => {
                                w.push('\\');
                                w.push(ch);
                            }
                            None => return Err((line, "a \" quote is not closed".into())),
                        },
                        Some(ch) => {
                            line += usize::from(ch == '\n');
                            w.push(ch);
                        }
                        None => return Err((line, "a \" quote is not closed".into())),
                    }
                }
            }
            '$' if chars.peek() == Some(&'\'') => {
                chars.next();
                let w = word.get_or_insert_with(String::new);
                ansi_c_quoted(&mut chars, w).map_err(|why| (line, why))?;
            }
            '#' if word.is_none() => {
                for ch in chars.by_ref() {
                    if ch == '\n' {
                        break;
                    }
                }
                words.extend(word.take());
                end_command(&mut words, start);
                line += 1;
                start = line;
            }
            '\n' | ';' => {
                words.extend(word.take());
                end_command(&mut words, start);
                line += usize::from(c == '\n');
                start = line;
            }
            '&' if chars.peek() == Some(&'&') => {
                chars.next();
                words.extend(word.take());
                end_command(&mut words, start);
                start = line;
            }
            ' ' | '\t' | '\r' => words.extend(word.take()),
            other => {
                if word.is_none() && words.is_empty() {
                    start = line;
                }
                word.get_or_insert_with(String::new).push(other);
            }
        }
    }
    words.extend(word.take());
    end_command(&mut words, start);
    Ok(commands)
}

/// The rest of a `$'...'` word: backslash escapes as bash expands them.
fn ansi_c_quoted(chars: &mut impl Iterator<Item = char>, out: &mut String) -> Result<(), String> {
    loop {
        match chars.next().ok_or("a $' quote is not closed")? {
            '\'' => return Ok(()),
            '\\' => match chars.next().ok_or("a $' quote is not closed")? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'x' => {
                    let hex: String = chars.take(2).collect();
                    let byte =
                        u8::from_str_radix(&hex, 16).map_err(|_| format!("\\x{hex} is not a hex escape"))?;
                    out.push(char::from(byte));
                }
                'u' => {
                    let hex: String = chars.take(4).collect();
                    let code = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("\\u{hex} is not a unicode escape"))?;
                    out.push(code);
                }
                other => out.push(other),
            },
            ch => out.push(ch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = r#"curl 'http://127.0.0.1:8080/api/v1/auth/register' \
  -H 'Accept: */*' \
  -H 'Content-Type: application/json' \
  --data-raw '{"email":"ann@example.test","password":"Secret123"}' ;
curl 'http://127.0.0.1:8080/api/v1/auth/me' \
  -H 'Authorization: Bearer abc.def' \
  --compressed
curl $'http://127.0.0.1:8080/api/v1/services' -G -d 'category=plumbing' -d "lat=1"
"#;

    #[test]
    fn chrome_commands_become_exchanges() {
        let exchanges = read("copied.sh", CHROME).unwrap();
        assert_eq!(exchanges.len(), 3);
        assert_eq!(exchanges[0].method, "POST");
        assert_eq!(exchanges[0].header("content-type"), Some("application/json"));
        assert_eq!(
            exchanges[0].body.as_deref(),
            Some(r#"{"email":"ann@example.test","password":"Secret123"}"#)
        );
        assert_eq!(exchanges[1].method, "GET");
        assert_eq!(exchanges[1].header("authorization"), Some("Bearer abc.def"));
        assert_eq!(exchanges[2].path(), "/api/v1/services?category=plumbing&lat=1");
        assert!(exchanges[2].body.is_none());
    }

    #[test]
    fn quoting_is_read_as_bash_reads_it() {
        let commands =
            split_commands("curl $'a\\'b\\x41' \"c\\\"d\" e\\ f # note\ncurl g && curl h").unwrap();
        assert_eq!(
            commands[0],
            (1, vec!["curl".into(), "a'bA".into(), "c\"d".into(), "e f".into()])
        );
        assert_eq!(commands[1], (2, vec!["curl".into(), "g".into()]));
        assert_eq!(commands[2], (2, vec!["curl".into(), "h".into()]));
    }

    #[test]
    fn bad_commands_name_their_line() {
        assert_eq!(
            read("c.sh", "\n\ncurl 'x").unwrap_err(),
            "c.sh:3: a ' quote is not closed"
        );
        assert_eq!(
            read("c.sh", "curl http://a.test/\nwget http://a.test/").unwrap_err(),
            "c.sh:2: \"wget\" is not a curl command"
        );
        assert_eq!(
            read("c.sh", "curl --proxy p http://a.test/").unwrap_err(),
            "c.sh:1: curl flag --proxy is not understood"
        );
        assert_eq!(
            read("c.sh", "# only a comment\n").unwrap_err(),
            "c.sh: no curl command in it"
        );
    }
}
