-- The marketplace, per the contract's schema: customers, providers, their services,
-- service requests, reviews and availability, with the checks and indexes it names.

CREATE TABLE IF NOT EXISTS customers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    phone       text,
    address     text,
    latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS service_providers (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    business_name  text NOT NULL,
    phone          text,
    address        text,
    latitude       double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude      double precision CHECK (longitude BETWEEN -180 AND 180),
    is_verified    boolean NOT NULL DEFAULT false,
    is_active      boolean NOT NULL DEFAULT true,
    rating         numeric(3, 2) NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    total_reviews  integer NOT NULL DEFAULT 0 CHECK (total_reviews >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS service_providers_location_idx ON service_providers (latitude, longitude);
CREATE INDEX IF NOT EXISTS service_providers_rating_idx ON service_providers (rating);

CREATE TABLE IF NOT EXISTS services (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id       uuid NOT NULL REFERENCES service_providers (id) ON DELETE CASCADE,
    category          text NOT NULL
                      CHECK (category IN ('plumbing', 'electrical', 'cleaning', 'tutoring', 'repair', 'other')),
    name              text NOT NULL,
    description       text NOT NULL DEFAULT '',
    price             numeric(10, 2) NOT NULL CHECK (price >= 0),
    duration_minutes  integer NOT NULL CHECK (duration_minutes > 0),
    is_active         boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS services_provider_idx ON services (provider_id);
CREATE INDEX IF NOT EXISTS services_category_idx ON services (category);

CREATE TABLE IF NOT EXISTS service_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id     uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    provider_id     uuid NOT NULL REFERENCES service_providers (id) ON DELETE CASCADE,
    service_id      uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'requested'
                    CHECK (status IN ('requested', 'confirmed', 'completed', 'cancelled')),
    requested_date  timestamptz NOT NULL,
    scheduled_date  timestamptz,
    address         text NOT NULL,
    notes           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS service_requests_customer_idx ON service_requests (customer_id, created_at DESC);
CREATE INDEX IF NOT EXISTS service_requests_provider_idx ON service_requests (provider_id);
CREATE INDEX IF NOT EXISTS service_requests_service_idx ON service_requests (service_id);
CREATE INDEX IF NOT EXISTS service_requests_status_idx ON service_requests (status);

CREATE TABLE IF NOT EXISTS reviews (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id  uuid NOT NULL UNIQUE REFERENCES service_requests (id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    provider_id uuid NOT NULL REFERENCES service_providers (id) ON DELETE CASCADE,
    rating      integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reviews_provider_idx ON reviews (provider_id);
CREATE INDEX IF NOT EXISTS reviews_customer_idx ON reviews (customer_id);

CREATE TABLE IF NOT EXISTS availability (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id  uuid NOT NULL REFERENCES service_providers (id) ON DELETE CASCADE,
    day_of_week  smallint NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
    start_time   time NOT NULL,
    end_time     time NOT NULL CHECK (end_time > start_time),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS availability_provider_idx ON availability (provider_id);
