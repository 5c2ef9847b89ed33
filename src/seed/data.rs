//! The fixed vocabulary of the seeded dataset.

pub struct City {
    pub name: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    /// Providers lie within this distance of the centre.
    pub spread_km: f64,
}

pub const CITIES: [City; 5] = [
    City {
        name: "Bengaluru",
        latitude: 12.9716,
        longitude: 77.5946,
        spread_km: 15.0,
    },
    City {
        name: "Mumbai",
        latitude: 19.0760,
        longitude: 72.8777,
        spread_km: 20.0,
    },
    City {
        name: "Delhi",
        latitude: 28.6139,
        longitude: 77.2090,
        spread_km: 20.0,
    },
    City {
        name: "Pune",
        latitude: 18.5204,
        longitude: 73.8567,
        spread_km: 12.0,
    },
    City {
        name: "Hyderabad",
        latitude: 17.3850,
        longitude: 78.4867,
        spread_km: 15.0,
    },
];

pub const STREETS: [&str; 6] = [
    "MG Road",
    "Station Road",
    "Park Street",
    "Lake View",
    "Market Lane",
    "Temple Street",
];

pub struct ServiceKind {
    pub category: &'static str,
    pub name: &'static str,
    /// Price range in rupees.
    pub price: (f64, f64),
    pub minutes: i32,
}

pub const SERVICE_KINDS: [ServiceKind; 8] = [
    ServiceKind {
        category: "plumbing",
        name: "Leak repair",
        price: (300.0, 1500.0),
        minutes: 60,
    },
    ServiceKind {
        category: "plumbing",
        name: "Tap installation",
        price: (200.0, 800.0),
        minutes: 45,
    },
    ServiceKind {
        category: "electrical",
        name: "Wiring check",
        price: (400.0, 2000.0),
        minutes: 90,
    },
    ServiceKind {
        category: "electrical",
        name: "Fan installation",
        price: (250.0, 700.0),
        minutes: 45,
    },
    ServiceKind {
        category: "cleaning",
        name: "Deep home cleaning",
        price: (1500.0, 6000.0),
        minutes: 240,
    },
    ServiceKind {
        category: "tutoring",
        name: "Maths tuition",
        price: (500.0, 1500.0),
        minutes: 60,
    },
    ServiceKind {
        category: "repair",
        name: "Appliance repair",
        price: (350.0, 2500.0),
        minutes: 90,
    },
    ServiceKind {
        category: "other",
        name: "Pest control",
        price: (800.0, 3000.0),
        minutes: 120,
    },
];
