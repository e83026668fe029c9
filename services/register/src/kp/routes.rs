//! `/v1/kp-imports` and `/v1/therapists/{agb}/kp-verification`.

pub fn configure(_cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {}
