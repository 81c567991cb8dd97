//! The baseline: the same queries written by hand on sqlx, with no service layer (no actor, no
//! authorisation, no sea-orm, no views), and a bare axum server answering the list endpoint with one
//! token lookup and one query. Every figure of `choucha bench` is shown beside its baseline.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use choucha_domain::audit::{AuditContent, AuditHash, Seal, chain_hash};
use choucha_domain::clock::Clock;
use chrono::SecondsFormat;
use sea_orm::sqlx::{self, AssertSqlSafe, PgPool, Row, SqlitePool};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub enum Bare {
    Pg(PgPool),
    Lite(SqlitePool),
}

/// Run the same code on either pool (the row types differ, so the body is expanded twice).
macro_rules! on_pool {
    ($self:expr, $p:ident => $body:expr) => {
        match $self {
            Bare::Pg($p) => $body,
            Bare::Lite($p) => $body,
        }
    };
}

/// A registry row as the bare handler returns it.
#[derive(Debug, Serialize)]
pub struct EntRow {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub division_code: String,
    pub address: String,
    pub kinds: i32,
    pub size_class: Option<String>,
    pub product_lines: String,
    pub status: String,
}

/// The states a lab worklist shows (all but rejected).
const LAB_STATES: &str = "'screening', 'cleared', 'accepted', 'testing', 'tested', 'reported', 'stopped'";

const ENT_COLS: &str = "id, uscc, name, division_code, address, kinds, size_class, product_lines, status";

pub fn prefix_upper(p: &str) -> String {
    format!("{p}\u{10FFFF}")
}

/// `$n` placeholders as the backend writes them (`?n` on SQLite).
fn sql(b: &Bare, s: &str) -> String {
    match b {
        Bare::Pg(_) => s.to_string(),
        Bare::Lite(_) => s.replace('$', "?"),
    }
}

macro_rules! ent_rows {
    ($rows:expr) => {
        $rows
            .into_iter()
            .map(|r| {
                Ok(EntRow {
                    id: r.try_get("id")?,
                    uscc: r.try_get("uscc")?,
                    name: r.try_get("name")?,
                    division_code: r.try_get("division_code")?,
                    address: r.try_get("address")?,
                    kinds: r.try_get("kinds")?,
                    size_class: r.try_get("size_class")?,
                    product_lines: r.try_get("product_lines")?,
                    status: r.try_get("status")?,
                })
            })
            .collect::<Result<Vec<EntRow>, sqlx::Error>>()
    };
}

/// A row of the sampler's worklist as the bare query reads it (what `TaskView` shows).
#[derive(Debug, serde::Serialize)]
pub struct WorkRow {
    pub id: i64,
    pub state: String,
    pub due_date: Option<chrono::NaiveDate>,
    pub plan_id: i64,
    pub plan_title: String,
    pub item_id: i64,
    pub product: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub enterprise_address: String,
    pub team: Option<String>,
    pub rules_published: bool,
    pub locked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub fields: Option<String>,
    pub arrived_at: Option<chrono::DateTime<chrono::Utc>>,
    pub follow_up_of: Option<i64>,
}

impl Bare {
    /// A name-prefix page within a division prefix, in (name, id) order.
    pub async fn search_name(&self, division: &str, prefix: &str, limit: i64) -> anyhow::Result<Vec<EntRow>> {
        let q = sql(
            self,
            &format!(
                "SELECT {ENT_COLS} FROM enterprises WHERE division_code >= $1 AND division_code < $2 \
                 AND name >= $3 AND name < $4 ORDER BY name, id LIMIT $5"
            ),
        );
        Ok(on_pool!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(q.clone()))
                .bind(division)
                .bind(prefix_upper(division))
                .bind(prefix)
                .bind(prefix_upper(prefix))
                .bind(limit)
                .fetch_all(p)
                .await?;
            ent_rows!(rows)?
        }))
    }

    /// A USCC within a division prefix.
    pub async fn search_uscc(&self, division: &str, uscc: &str) -> anyhow::Result<Vec<EntRow>> {
        let q = sql(
            self,
            &format!(
                "SELECT {ENT_COLS} FROM enterprises WHERE uscc = $1 AND division_code >= $2 AND division_code < $3 \
                 ORDER BY division_code, id LIMIT 51"
            ),
        );
        Ok(on_pool!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(q.clone())).bind(uscc).bind(division).bind(prefix_upper(division)).fetch_all(p).await?;
            ent_rows!(rows)?
        }))
    }

    /// The draw's candidates in one indexed read: (uscc, division) of operating enterprises of an
    /// area with any of the kinds, holding a product line that contains the product — the lines
    /// from `product_line_names`, then their entries in the area from the product-line index
    /// (product, division, enterprise), which covers the filtered columns (m0036).
    pub async fn candidates(
        &self,
        division: &str,
        kind_mask: i32,
        product: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let q = sql(
            self,
            "SELECT l.uscc, l.division_code FROM enterprise_product_lines l \
             WHERE l.product IN (SELECT name FROM product_line_names WHERE name LIKE $1) \
             AND l.division_code >= $2 AND l.division_code < $3 AND (l.kinds & $4) <> 0 AND l.status = 'operating'",
        );
        let mut out: Vec<(String, String)> = on_pool!(self, p => {
            sqlx::query(AssertSqlSafe(q.clone()))
                .bind(format!("%{product}%"))
                .bind(division)
                .bind(prefix_upper(division))
                .bind(kind_mask)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// A sampler's worklist page as the page shows it, in one statement: the page's tasks from the
    /// members index (user, task) walked backwards, each with its plan's title, product, enterprise
    /// (name, USCC, address), team's names, whether the item's rules are published, what rule 16's
    /// entry deadline is computed from (the first lock, the newest record's fields, the arrival) and
    /// the case it is the 复查 of.
    pub async fn worklist(&self, user_id: i64) -> anyhow::Result<Vec<WorkRow>> {
        let team = match self {
            Bare::Pg(_) => "string_agg(u.display_name, '、' ORDER BY m.user_id)",
            Bare::Lite(_) => "group_concat(u.display_name, '、')",
        };
        let q = sql(
            self,
            &format!(
                "SELECT t.id, t.state, t.due_date, t.plan_id, p.title, t.item_id, i.product, \
                 e.id AS enterprise_id, e.name, e.uscc, e.address, \
                 (SELECT {team} FROM sampling_task_members m JOIN users u ON u.id = m.user_id WHERE m.task_id = t.id) AS team, \
                 EXISTS (SELECT 1 FROM rules_versions r WHERE r.item_id = t.item_id AND r.state = 'published') AS published, \
                 (SELECT MIN(r.locked_at) FROM sampling_records r WHERE r.task_id = t.id) AS locked_at, \
                 (SELECT r.fields_json FROM sampling_records r WHERE r.task_id = t.id ORDER BY r.version DESC LIMIT 1) AS fields, \
                 (SELECT a.arrived_at FROM task_arrivals a WHERE a.task_id = t.id) AS arrived_at, \
                 (SELECT f.case_id FROM case_follow_ups f WHERE f.task_id = t.id) AS follow_up_of \
                 FROM sampling_task_members me JOIN sampling_tasks t ON t.id = me.task_id \
                 JOIN plan_items i ON i.id = t.item_id JOIN plans p ON p.id = t.plan_id \
                 JOIN enterprises e ON e.id = t.enterprise_id \
                 WHERE me.user_id = $1 ORDER BY me.task_id DESC LIMIT 51"
            ),
        );
        Ok(on_pool!(self, p => {
            sqlx::query(AssertSqlSafe(q.clone()))
                .bind(user_id)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| {
                    Ok(WorkRow {
                        id: r.try_get("id")?,
                        state: r.try_get("state")?,
                        due_date: r.try_get("due_date")?,
                        plan_id: r.try_get("plan_id")?,
                        plan_title: r.try_get("title")?,
                        item_id: r.try_get("item_id")?,
                        product: r.try_get("product")?,
                        enterprise_id: r.try_get("enterprise_id")?,
                        enterprise_name: r.try_get("name")?,
                        enterprise_uscc: r.try_get("uscc")?,
                        enterprise_address: r.try_get("address")?,
                        team: r.try_get("team")?,
                        rules_published: r.try_get("published")?,
                        locked_at: r.try_get("locked_at")?,
                        fields: r.try_get("fields")?,
                        arrived_at: r.try_get("arrived_at")?,
                        follow_up_of: r.try_get("follow_up_of")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// A laboratory worklist page: blind code, product, state and tester's name of the samples of a
    /// tester (`mine`) or of an institution, in the worklist's states, newest first. The page is cut
    /// from `lab_samples` alone (its (tester or institution, state, id) index), then joined to items
    /// and users for its 51 rows only.
    pub async fn lab_worklist(
        &self,
        tester_id: Option<i64>,
        org_id: i64,
    ) -> anyhow::Result<Vec<(i64, Option<String>, String, String, Option<String>)>> {
        let by = if tester_id.is_some() { "s.tester_id" } else { "s.testing_org_id" };
        let q = sql(
            self,
            &format!(
                "SELECT s.id, s.blind_code, i.product, s.state, u.display_name FROM \
                 (SELECT id, blind_code, item_id, state, tester_id FROM lab_samples s WHERE {by} = $1 \
                 AND s.state IN ({LAB_STATES}) ORDER BY id DESC LIMIT 51) s \
                 JOIN plan_items i ON i.id = s.item_id LEFT JOIN users u ON u.id = s.tester_id ORDER BY s.id DESC"
            ),
        );
        let key = tester_id.unwrap_or(org_id);
        Ok(on_pool!(self, p => {
            sqlx::query(AssertSqlSafe(q.clone()))
                .bind(key)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// The plan dashboard's numbers: its items and live tasks per item.
    pub async fn dashboard(&self, plan_id: i64) -> anyhow::Result<(usize, Vec<(i64, i64)>)> {
        let qi = sql(self, "SELECT id, product, group_id FROM plan_items WHERE plan_id = $1 ORDER BY position");
        let qc = sql(
            self,
            "SELECT item_id, COUNT(*) FROM sampling_tasks WHERE plan_id = $1 \
             AND state IN ('assigned', 'in_progress', 'sampled', 'refusal_pending', 'refused') GROUP BY item_id",
        );
        Ok(on_pool!(self, p => {
            let items = sqlx::query(AssertSqlSafe(qi.clone())).bind(plan_id).fetch_all(p).await?.len();
            let counts = sqlx::query(AssertSqlSafe(qc.clone()))
                .bind(plan_id)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            (items, counts)
        }))
    }

    /// The summary a plan's results table needs: samples per item and state, with signed records.
    pub const SUMMARY_SQL: &'static str = "SELECT t.item_id, t.state, COUNT(*) AS n, COUNT(r.id) AS signed \
         FROM sampling_tasks t LEFT JOIN sampling_records r ON r.task_id = t.id AND r.state = 'signed' \
         WHERE t.plan_id = $1 GROUP BY t.item_id, t.state ORDER BY t.item_id, t.state";

    pub async fn summary(&self, plan_id: i64) -> anyhow::Result<Vec<(i64, String, i64, i64)>> {
        let q = sql(self, Self::SUMMARY_SQL);
        Ok(on_pool!(self, p => {
            sqlx::query(AssertSqlSafe(q.clone()))
                .bind(plan_id)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// A sampling record and its hash-chained audit record in one transaction.
    pub async fn create_record(&self, task_id: i64, user_id: i64, fields_json: &str) -> anyhow::Result<()> {
        let now = Clock::system().now();
        let hash = hex::encode(Sha256::digest(format!("{task_id}\n1\n{fields_json}").as_bytes()));
        let head = match self {
            Bare::Pg(_) => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            Bare::Lite(_) => "SELECT seq, hash FROM audit_head WHERE id = 1",
        };
        let ins = sql(
            self,
            "INSERT INTO sampling_records (task_id, version, state, fields_json, record_hash, diff_json, \
             correction_reason, created_by, created_at) VALUES ($1, 1, 'draft', $2, $3, '[]', '', $4, $5) RETURNING id",
        );
        let audit = sql(
            self,
            "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, object_type, object_id, before_json, \
             after_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        );
        let upd = sql(self, "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3");
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query(AssertSqlSafe(ins.clone()))
                .bind(task_id)
                .bind(fields_json)
                .bind(&hash)
                .bind(user_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            let h = sqlx::query(head).fetch_one(&mut *tx).await?;
            let (seq, prev): (i64, String) = (h.try_get(0)?, h.try_get(1)?);
            let c = AuditContent {
                seq: seq + 1,
                at: now.to_rfc3339_opts(SecondsFormat::Micros, true),
                actor_id: Some(user_id),
                actor_name: "bench-baseline".into(),
                action: "record.save".into(),
                object_type: "sampling_record".into(),
                object_id: id.to_string(),
                before: "null".into(),
                after: format!("{{\"task_id\":{task_id}}}"),
                rows: String::new(),
            };
            // The baseline has no audit key: it writes the unkeyed form, a record a keyed chain then
            // names as a downgrade, so run it only on a bench database.
            let seal = Seal { hash: AuditHash::Sha256, key_id: String::new() };
            let new_hash = chain_hash(&seal, None, &prev, &c);
            sqlx::query(AssertSqlSafe(audit.clone()))
                .bind(c.seq)
                .bind(&c.at)
                .bind(c.actor_id)
                .bind(&c.actor_name)
                .bind(&c.action)
                .bind(&c.object_type)
                .bind(&c.object_id)
                .bind(&c.before)
                .bind(&c.after)
                .bind(&prev)
                .bind(&new_hash)
                .execute(&mut *tx)
                .await?;
            let r = sqlx::query(AssertSqlSafe(upd.clone())).bind(c.seq).bind(&new_hash).bind(seq).execute(&mut *tx).await?;
            anyhow::ensure!(r.rows_affected() == 1, "audit head moved");
            tx.commit().await?;
        });
        Ok(())
    }

    /// The audit chain's head: (seq, hash).
    pub async fn audit_head(&self) -> anyhow::Result<(i64, String)> {
        Ok(on_pool!(self, p => {
            let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await?;
            (r.try_get(0)?, r.try_get(1)?)
        }))
    }

    /// Take back what one measured draw wrote, so every draw of the bench starts from the same data
    /// and the pool never runs out: its tasks and their members, the draw record, and the audit
    /// records after `head` (the chain's head again as it was: `audit verify` holds). The bench is
    /// the only writer of its database.
    pub async fn undo_draw(&self, draw_id: i64, head: &(i64, String)) -> anyhow::Result<()> {
        let stmts = [
            "DELETE FROM sampling_task_members WHERE task_id IN (SELECT id FROM sampling_tasks WHERE draw_id = $1)",
            "DELETE FROM sampling_tasks WHERE draw_id = $1",
            "DELETE FROM draws WHERE id = $1",
        ]
        .map(|q| sql(self, q));
        let log = sql(self, "DELETE FROM audit_log WHERE seq > $1");
        let upd = sql(self, "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1");
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for q in &stmts {
                sqlx::query(AssertSqlSafe(q.clone())).bind(draw_id).execute(&mut *tx).await?;
            }
            sqlx::query(AssertSqlSafe(log.clone())).bind(head.0).execute(&mut *tx).await?;
            sqlx::query(AssertSqlSafe(upd.clone())).bind(head.0).bind(&head.1).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The user of a live bearer token (what any authenticated handler needs).
    pub async fn token_user(&self, token: &str) -> anyhow::Result<Option<i64>> {
        let h = hex::encode(Sha256::digest(token.as_bytes()));
        let q = sql(self, "SELECT user_id FROM api_tokens WHERE token_hash = $1 AND expires_at > $2");
        Ok(on_pool!(self, p => {
            match sqlx::query(AssertSqlSafe(q.clone())).bind(h).bind(Clock::system().now()).fetch_optional(p).await? {
                Some(r) => Some(r.try_get::<i64, _>(0)?),
                None => None,
            }
        }))
    }

    /// A list of rows for the bench to pick its inputs from (one column of i64 or text).
    pub async fn ids(&self, q: &str) -> anyhow::Result<Vec<i64>> {
        Ok(on_pool!(self, p => {
            sqlx::query(AssertSqlSafe(q.to_string()))
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| r.try_get::<i64, _>(0))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    pub async fn pairs(&self, q: &str) -> anyhow::Result<Vec<(i64, i64)>> {
        Ok(on_pool!(self, p => {
            sqlx::query(AssertSqlSafe(q.to_string()))
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    pub async fn texts(&self, q: &str) -> anyhow::Result<Vec<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query(AssertSqlSafe(q.to_string()))
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }
}

/// The bare endpoints, each a bearer token lookup and the bare query, answering JSON:
/// `GET /bare/enterprises?q=<name prefix>&division=<prefix>` (as `GET /api/v1/enterprises`),
/// `GET /bare/tasks` (the caller's worklist, as `GET /api/v1/tasks`), `GET /bare/plans/{id}` (the
/// dashboard's numbers, as `GET /api/v1/plans/{id}`) and `PUT /bare/tasks/{id}/record` (a record
/// and its audit record, as `PUT /api/v1/tasks/{id}/record`).
pub fn router(bare: Bare) -> Router {
    Router::new()
        .route("/bare/enterprises", get(list))
        .route("/bare/tasks", get(tasks))
        .route("/bare/plans/{id}", get(plan))
        .route("/bare/tasks/{id}/record", axum::routing::put(record))
        .with_state(bare)
}

async fn caller(bare: &Bare, headers: &HeaderMap) -> Result<i64, StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    bare.token_user(token).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?.ok_or(StatusCode::UNAUTHORIZED)
}

async fn tasks(State(bare): State<Bare>, headers: HeaderMap) -> Result<Json<serde_json::Value>, StatusCode> {
    let user = caller(&bare, &headers).await?;
    let rows = bare.worklist(user).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(serde_json::json!({ "items": rows })))
}

async fn plan(
    State(bare): State<Bare>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Json<serde_json::Value>, StatusCode> {
    caller(&bare, &headers).await?;
    let (items, counts) = bare.dashboard(id).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(serde_json::json!({ "items": items, "tasks": counts })))
}

async fn record(
    State(bare): State<Bare>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
    body: String,
) -> Result<Json<serde_json::Value>, StatusCode> {
    let user = caller(&bare, &headers).await?;
    bare.create_record(id, user, &body).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(serde_json::json!({ "task_id": id })))
}

async fn list(
    State(bare): State<Bare>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, StatusCode> {
    caller(&bare, &headers).await?;
    let prefix = q.get("q").cloned().unwrap_or_default();
    let division = q.get("division").cloned().unwrap_or_default();
    let rows = bare.search_name(&division, &prefix, 51).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(serde_json::json!({ "items": rows })))
}
