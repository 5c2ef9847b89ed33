//! Query parameters of the search routes, parsed strictly: a bad value is a 400 that
//! names the parameter, never a silently ignored filter.

use std::collections::HashMap;

use crate::error::ApiError;

pub const CATEGORIES: [&str; 6] = [
    "plumbing",
    "electrical",
    "cleaning",
    "tutoring",
    "repair",
    "other",
];
const DEFAULT_RADIUS_KM: f64 = 10.0;
const MAX_RADIUS_KM: f64 = 500.0;
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// A search, validated. `canonical` identifies it for the result cache.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub category: Option<String>,
    /// `(lat, lng)`.
    pub near: Option<(f64, f64)>,
    pub radius_km: f64,
    pub min_rating: Option<f64>,
    pub min_price: Option<f64>,
    pub max_price: Option<f64>,
    pub limit: i64,
    pub offset: i64,
}

impl Search {
    pub fn parse(query: &HashMap<String, String>) -> Result<Self, ApiError> {
        let get = |name: &str| query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let category = get("category").map(str::to_owned);
        if let Some(c) = &category {
            if !CATEGORIES.contains(&c.as_str()) {
                return Err(bad(format!("category must be one of {}", CATEGORIES.join(", "))));
            }
        }
        let lat = number(get("lat"), "lat", -90.0, 90.0)?;
        let lng = number(get("lng"), "lng", -180.0, 180.0)?;
        let near = match (lat, lng) {
            (Some(lat), Some(lng)) => Some((lat, lng)),
            (None, None) => None,
            _ => return Err(bad("lat and lng go together".into())),
        };
        let search = Self {
            category,
            near,
            radius_km: number(get("radius"), "radius", 0.001, MAX_RADIUS_KM)?.unwrap_or(DEFAULT_RADIUS_KM),
            min_rating: number(get("min_rating"), "min_rating", 0.0, 5.0)?,
            min_price: number(get("min_price"), "min_price", 0.0, f64::MAX)?,
            max_price: number(get("max_price"), "max_price", 0.0, f64::MAX)?,
            limit: integer(get("limit"), "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT),
            offset: integer(get("offset"), "offset", 0, i64::MAX)?.unwrap_or(0),
        };
        if let (Some(min), Some(max)) = (search.min_price, search.max_price) {
            if min > max {
                return Err(bad("min_price must not exceed max_price".into()));
            }
        }
        Ok(search)
    }

    /// A stable text form of the search, for cache keys.
    pub fn canonical(&self) -> String {
        format!("{self:?}")
    }
}

fn number(value: Option<&str>, name: &str, min: f64, max: f64) -> Result<Option<f64>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() && (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(bad(format!("{name} must be a number from {min} to {max}"))),
    }
}

fn integer(value: Option<&str>, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    match value.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(bad(format!("{name} must be a whole number from {min} to {max}"))),
    }
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Search, ApiError> {
        Search::parse(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_and_filters() {
        let s = parse(&[]).unwrap();
        assert_eq!((s.radius_km, s.limit, s.offset, s.near), (10.0, 20, 0, None));
        let s = parse(&[
            ("category", "plumbing"),
            ("lat", "12.97"),
            ("lng", "77.59"),
            ("radius", "5"),
            ("limit", "50"),
        ])
        .unwrap();
        assert_eq!((s.near, s.radius_km, s.limit), (Some((12.97, 77.59)), 5.0, 50));
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (pairs, name) in [
            (vec![("category", "gardening")], "category"),
            (vec![("lat", "12.9")], "lat and lng"),
            (vec![("lat", "95"), ("lng", "0")], "lat"),
            (vec![("radius", "-1")], "radius"),
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "ten")], "limit"),
            (vec![("min_price", "50"), ("max_price", "10")], "min_price"),
        ] {
            let err = parse(&pairs).unwrap_err().to_string();
            assert!(err.contains(name), "{pairs:?}: {err}");
        }
    }
}
