//! Path parameters of the KP verification runs.

use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::path_param;
use uuid::Uuid;

path_param! {
    /// The verification run (`{id}`) of the path.
    pub struct RunPath(Uuid) = "id",
        description = "The run's id", schema = uuid,
        parse = |raw| Uuid::parse_str(raw).map_err(|_| ApiError::not_found("KP verification run", raw));
}
