//! Data pools: rows of values a virtual user draws from, e.g. one seeded customer per
//! user. A pool's columns become variables named `POOL.COLUMN` (`{{customers.email}}`).

use std::path::Path;

use serde::Deserialize;

use crate::accounts::{customer_email, SEEDED_PASSWORD};

/// A pool as written in the scenario file: exactly one of `rows`, `csv` or
/// `seeded_customers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPool {
    /// Column names for inline `rows`.
    pub columns: Option<Vec<String>>,
    pub rows: Option<Vec<Vec<String>>>,
    /// A CSV file with a header row, relative to the scenario file.
    pub csv: Option<String>,
    /// The first N customers of the seeded dataset (`email`, `password`).
    pub seeded_customers: Option<usize>,
    /// `per_user` (default: each virtual user keeps its own row) or `random` (a row
    /// per iteration).
    pub pick: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    PerUser,
    Random,
}

/// A loaded pool; `vars` are the variable indices of its columns, in order.
#[derive(Debug)]
pub struct Pool {
    pub name: String,
    pub vars: Vec<usize>,
    pub rows: Vec<Vec<String>>,
    pub pick: Pick,
}

/// Columns and rows of `raw`, read from wherever it says; `dir` is the scenario's folder.
pub(super) fn load(
    name: &str,
    raw: &RawPool,
    dir: Option<&Path>,
) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let sources = [
        raw.rows.is_some(),
        raw.csv.is_some(),
        raw.seeded_customers.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err(format!(
            "pool {name} needs exactly one of rows, csv or seeded_customers"
        ));
    }
    let (columns, rows) = if let Some(rows) = &raw.rows {
        let columns = raw
            .columns
            .clone()
            .ok_or_else(|| format!("pool {name}: inline rows need columns"))?;
        (columns, rows.clone())
    } else if let Some(file) = &raw.csv {
        let dir = dir.ok_or_else(|| {
            format!("pool {name}: a built-in scenario cannot read {file}; copy the scenario")
        })?;
        read_csv(&dir.join(file)).map_err(|e| format!("pool {name}: {e}"))?
    } else {
        let count = raw.seeded_customers.unwrap_or(0);
        let rows = (0..count)
            .map(|i| vec![customer_email(i), SEEDED_PASSWORD.to_owned()])
            .collect();
        (vec!["email".to_owned(), "password".to_owned()], rows)
    };
    if rows.is_empty() {
        return Err(format!("pool {name} has no rows"));
    }
    if let Some(bad) = rows.iter().position(|r| r.len() != columns.len()) {
        return Err(format!(
            "pool {name}: row {} has {} values for {} columns",
            bad + 1,
            rows[bad].len(),
            columns.len()
        ));
    }
    Ok((columns, rows))
}

pub(super) fn pick(raw: &RawPool, name: &str) -> Result<Pick, String> {
    match raw.pick.as_deref() {
        None | Some("per_user") => Ok(Pick::PerUser),
        Some("random") => Ok(Pick::Random),
        Some(other) => Err(format!(
            "pool {name}: pick {other:?} is neither per_user nor random"
        )),
    }
}

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let columns = reader
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((columns, rows))
}

impl Pool {
    /// The row a user draws for an iteration.
    pub fn row(&self, user: usize) -> &[String] {
        let index = match self.pick {
            Pick::PerUser => user % self.rows.len(),
            Pick::Random => rand::Rng::gen_range(&mut rand::thread_rng(), 0..self.rows.len()),
        };
        &self.rows[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawPool {
        RawPool {
            columns: None,
            rows: None,
            csv: None,
            seeded_customers: None,
            pick: None,
        }
    }

    #[test]
    fn sources_load_and_are_checked() {
        let seeded = RawPool {
            seeded_customers: Some(3),
            ..raw()
        };
        let (columns, rows) = load("customers", &seeded, None).unwrap();
        assert_eq!(columns, ["email", "password"]);
        assert_eq!(rows[2][0], customer_email(2));
        let inline = RawPool {
            columns: Some(vec!["lat".into(), "lng".into()]),
            rows: Some(vec![vec!["1".into()]]),
            ..raw()
        };
        assert!(load("places", &inline, None)
            .unwrap_err()
            .contains("row 1 has 1 values for 2 columns"));
        assert!(load("none", &raw(), None).unwrap_err().contains("exactly one"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.csv"), "email,password\na@b.co,Secret123\n").unwrap();
        let from_csv = RawPool {
            csv: Some("p.csv".into()),
            ..raw()
        };
        let (columns, rows) = load("people", &from_csv, Some(dir.path())).unwrap();
        assert_eq!((columns.len(), rows[0][0].as_str()), (2, "a@b.co"));
    }

    #[test]
    fn per_user_rows_are_stable() {
        let pool = Pool {
            name: "p".into(),
            vars: vec![0],
            rows: vec![vec!["a".into()], vec!["b".into()]],
            pick: Pick::PerUser,
        };
        assert_eq!(
            (
                pool.row(0)[0].as_str(),
                pool.row(1)[0].as_str(),
                pool.row(2)[0].as_str()
            ),
            ("a", "b", "a")
        );
    }
}
