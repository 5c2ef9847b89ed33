-- Users, per the contract's schema. Emails are stored lower-cased.
CREATE TABLE IF NOT EXISTS users (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                     text NOT NULL UNIQUE,
    password_hash             text NOT NULL,
    name                      text NOT NULL,
    role                      text NOT NULL
                              CHECK (role IN ('customer', 'service_provider', 'admin')),
    is_email_verified         boolean NOT NULL DEFAULT false,
    email_verify_token        text,
    email_verify_expires_at   timestamptz,
    password_reset_token      text,
    password_reset_expires_at timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS users_email_verify_token_idx
    ON users (email_verify_token) WHERE email_verify_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS users_password_reset_token_idx
    ON users (password_reset_token) WHERE password_reset_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS users_role_idx ON users (role);
