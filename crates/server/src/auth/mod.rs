//! Sign-in by phone number and SMS code, sessions and tokens.

pub mod owner;
pub mod phone;
pub mod rate;
pub mod secret;
pub mod session;
pub mod sign_in;
pub mod sms;
