//! `/v1/therapists` and `/v1/practices/{agb}/therapists`.

pub fn configure(_cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {}
