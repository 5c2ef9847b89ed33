//! The contract's validation rules for auth input. Each check returns the message a
//! client sees in the 400 body.

use crate::error::ApiError;

pub const ROLES_SELF_REGISTER: [&str; 2] = ["customer", "service_provider"];

/// A required string field: present and not blank.
pub fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::BadRequest(format!("{field} is required"))),
    }
}

/// A well-formed address, returned lower-cased so lookups ignore case.
pub fn email(value: &Option<String>) -> Result<String, ApiError> {
    let email = required(value, "email")?;
    if is_email(email) {
        Ok(email.to_ascii_lowercase())
    } else {
        Err(ApiError::BadRequest("email must be a valid email address".into()))
    }
}

/// At least 8 characters with an upper-case letter, a lower-case letter and a digit.
pub fn password<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    let password = value
        .as_deref()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::BadRequest(format!("{field} is required")))?;
    let strong = password.chars().count() >= 8
        && password.chars().any(|c| c.is_ascii_uppercase())
        && password.chars().any(|c| c.is_ascii_lowercase())
        && password.chars().any(|c| c.is_ascii_digit());
    if strong {
        Ok(password)
    } else {
        Err(ApiError::BadRequest(format!(
            "{field} must be at least 8 characters with an upper-case letter, a lower-case letter and a digit"
        )))
    }
}

pub fn name(value: &Option<String>) -> Result<&str, ApiError> {
    let name = required(value, "name")?;
    if name.chars().count() >= 2 {
        Ok(name)
    } else {
        Err(ApiError::BadRequest("name must be at least 2 characters".into()))
    }
}

pub fn role(value: &Option<String>) -> Result<&str, ApiError> {
    let role = required(value, "role")?;
    if ROLES_SELF_REGISTER.contains(&role) {
        Ok(role)
    } else {
        Err(ApiError::BadRequest(
            "role must be customer or service_provider".into(),
        ))
    }
}

/// `local@domain.tld`: one `@`, no spaces, a dot in the domain that is not at its ends.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let plain = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '@');
    plain(local)
        && plain(domain)
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn emails() {
        for good in ["a@b.co", "First.Last+tag@mail.example.com"] {
            assert!(email(&some(good)).is_ok(), "{good}");
        }
        for bad in [
            "", "plain", "a@b", "a@@b.co", "a b@c.co", "a@.co", "a@b.", "a@b..co",
        ] {
            assert!(email(&some(bad)).is_err(), "{bad}");
        }
        assert_eq!(email(&some("Mixed@Case.COM")).unwrap(), "mixed@case.com");
    }

    #[test]
    fn passwords_need_length_and_three_classes() {
        assert!(password(&some("Secret123"), "password").is_ok());
        for bad in ["Short1a", "alllower123", "ALLUPPER123", "NoDigitsHere"] {
            assert!(password(&some(bad), "password").is_err(), "{bad}");
        }
        assert!(password(&None, "password").is_err());
    }

    #[test]
    fn names_and_roles() {
        assert!(name(&some("Al")).is_ok());
        assert!(name(&some(" A ")).is_err());
        assert!(role(&some("customer")).is_ok());
        assert!(role(&some("service_provider")).is_ok());
        assert!(role(&some("admin")).is_err());
    }
}
