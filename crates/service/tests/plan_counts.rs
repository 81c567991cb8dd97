//! The plan view's task counts (issue 17) come from `plan_task_counts`, kept by triggers on
//! `sampling_tasks`: after every kind of write a task goes through — a draw, a start, a problem
//! report, a redraw, a task deleted or moved by hand — they equal a count over the tasks themselves,
//! and the plan view and the overview show them. On SQLite or PostgreSQL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::sampling::TaskState;
use choucha_service::draws::{self, RedrawRequest};
use choucha_service::fixtures::lab_world::{self, World, s};
use choucha_service::plans;
use choucha_service::sampling::{self, ProblemInput};
use sea_orm::{ConnectionTrait, Statement};

async fn rows(w: &World, sql: String) -> Vec<(i64, String, i64)> {
    let c = s(w).store().reader();
    let rs = c.query_all_raw(Statement::from_string(c.get_database_backend(), sql)).await.unwrap();
    rs.iter()
        .map(|r| {
            (
                r.try_get_by_index::<i64>(0).unwrap(),
                r.try_get_by_index::<String>(1).unwrap(),
                r.try_get_by_index::<i64>(2).unwrap(),
            )
        })
        .collect()
}

async fn exec(w: &World, sql: String) {
    let c = s(w).store().reader();
    c.execute_raw(Statement::from_string(c.get_database_backend(), sql)).await.unwrap();
}

/// The kept counts equal a count over the tasks, and the plan view's live tasks per item agree.
async fn assert_kept(w: &World, at: &str) -> i64 {
    let counted = rows(
        w,
        format!(
            "SELECT CAST(item_id AS BIGINT), state, CAST(COUNT(*) AS BIGINT) FROM sampling_tasks WHERE plan_id = {} GROUP BY item_id, state ORDER BY item_id, state",
            w.plan
        ),
    )
    .await;
    let kept = rows(
        w,
        format!(
            "SELECT CAST(item_id AS BIGINT), state, CAST(n AS BIGINT) FROM plan_task_counts WHERE plan_id = {} AND n <> 0 ORDER BY item_id, state",
            w.plan
        ),
    )
    .await;
    assert_eq!(kept, counted, "{at}");
    let live: i64 = counted
        .iter()
        .filter(|r| r.1.parse::<TaskState>().is_ok_and(|s| TaskState::LIVE.contains(&s)))
        .map(|r| r.2)
        .sum();
    let plan = plans::get(s(w), &w.regulator, w.plan).await.unwrap();
    let item = plan.items.iter().find(|i| i.id == w.item).unwrap();
    assert_eq!(item.tasks, live, "{at}: the plan view's live tasks");
    live
}

#[tokio::test]
async fn the_plan_views_counts_follow_every_write_of_a_task() {
    let w = lab_world::world().await;
    assert_eq!(assert_kept(&w, "after the world's draw and signed record").await, 1);

    let t2 = lab_world::another_task(&w, "大同市平城区示例加油站7", 7).await;
    assert_eq!(assert_kept(&w, "after a second draw").await, 2);

    draws::start_task(s(&w), &w.s1, t2).await.unwrap();
    assert_kept(&w, "after a start").await;
    let problem = ProblemInput { violation: "无证无照".into(), facts: "现场未见营业执照".into() };
    sampling::report_problem(s(&w), &w.s1, t2, problem).await.unwrap();
    assert_kept(&w, "after a problem report").await;

    let t3 = lab_world::another_task(&w, "大同市平城区示例加油站8", 8).await;
    w.fx.enterprise("大同市平城区示例加油站9", "140213", "销售者、加油站", 9).await;
    let req = RedrawRequest { task_id: t3, reason: "停业".into(), seed: "r1".into() };
    draws::redraw(s(&w), &w.regulator, req).await.unwrap();
    assert_kept(&w, "after a redraw").await;

    // Writes by hand (a bench taking back its draw, an operator's repair) keep them too.
    exec(&w, format!("UPDATE sampling_tasks SET state = 'not_sampled' WHERE id = {t2}")).await;
    assert_kept(&w, "after a state changed by hand").await;
    exec(&w, format!("UPDATE sampling_tasks SET state = state WHERE plan_id = {}", w.plan)).await;
    assert_kept(&w, "after an update that changes nothing").await;
    let t4 = lab_world::another_task(&w, "大同市平城区示例加油站10", 10).await;
    assert_kept(&w, "after a third draw").await;
    exec(&w, format!("DELETE FROM sampling_task_members WHERE task_id = {t4}")).await;
    exec(&w, format!("DELETE FROM sampling_tasks WHERE id = {t4}")).await;
    assert_kept(&w, "after a task deleted").await;

    // The overview reads the same counts.
    let by_state = choucha_store::overview::tasks_by_state(s(&w).store().reader(), w.plan).await.unwrap();
    let total: i64 = by_state.iter().map(|r| r.1).sum();
    let counted = rows(
        &w,
        format!(
            "SELECT CAST(0 AS BIGINT), 'all', CAST(COUNT(*) AS BIGINT) FROM sampling_tasks WHERE plan_id = {}",
            w.plan
        ),
    )
    .await;
    assert_eq!(total, counted[0].2);
}
