//! API: custody signed by both hands (issue 18) — the chain read as holdings with its gaps, the
//! hand-overs of a blind sample its parties see, and the counter-party's confirmation.

use axum::Json;
use axum::extract::State;
use choucha_service::custody_chain::{self, CustodyChain};
use choucha_service::custody_hands::{self, ConfirmInput, HandOverView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(chain)).routes(routes!(hand_overs)).routes(routes!(confirm))
}

/// The custody chain of a task's portions as holdings (holder, from, to) with its gaps flagged:
/// hand-overs not confirmed by the other party, seals changed at a hand-over, sent and never
/// received, time running backwards. The team, the organising bureau and the testing
/// institution's custodian — never a blind tester.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/custody/chain", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = CustodyChain), (status = 404, body = ErrorBody)))]
async fn chain(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustodyChain>> {
    Ok(Json(custody_chain::chain(&st.services, &a, id).await?))
}

/// The hand-overs of a blind sample the caller is party to (its tester, its custodian), newest
/// first, with their confirmations: kind, portion, seal state, temperature, the two parties.
#[utoipa::path(get, path = "/api/v1/lab/samples/{code}/hand-overs", params(("code" = String, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, body = Vec<HandOverView>), (status = 404, body = ErrorBody)))]
async fn hand_overs(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Vec<HandOverView>>> {
    Ok(Json(custody_hands::hand_overs_of_sample(&st.services, &a, &code).await?))
}

/// The other party confirms a hand-over (optionally with their stored or a drawn signature): the
/// sample's tester for a hand-over to or back from testing, the testing institution's custodian
/// for a dispatch (its receipt does so too) and as witness of another custodian's disposal, the
/// re-test institution's custodian for the backup portion sent to it. Once; 403 for anyone else;
/// 409 `already_confirmed`, `not_a_handover`.
#[utoipa::path(post, path = "/api/v1/custody/{event_id}/confirm", params(("event_id" = i64, Path)), tag = "handover", request_body = ConfirmInput, security(("bearer" = [])),
    responses((status = 200, body = HandOverView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirm(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<ConfirmInput>,
) -> ApiResult<Json<HandOverView>> {
    Ok(Json(custody_hands::confirm(&st.services, &a, id, i).await?))
}
