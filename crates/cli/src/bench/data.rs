//! `choucha bench-data`: opens the database, generates the benchmark's data set with
//! `choucha_seed::bench` (loading the demo deployment first when it is missing) and prints what it
//! made.

use std::process::ExitCode;
use std::time::Instant;

pub use choucha_seed::bench::DataArgs;
use choucha_seed::bench::{self, Generated};

use crate::commands::{load_demo, open};
use crate::config::Settings;

pub async fn run(settings: &Settings, args: DataArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let services = open(settings).await?;
    let Generated { counts, as_of } = bench::generate(&services, &settings.database_url, &args, async |s| {
        eprintln!("正在载入演示部署（机构、账号、计划）……");
        load_demo(s).await.map(|_| ())
    })
    .await?;
    services.close().await?;
    println!(
        "基准数据已生成（种子“{}”，基准日 {as_of}，用时 {:.1} 秒）：企业 {} 家，抽样人员 {} 个，计划 {} 个（条目 {} 个），\
         抽样任务 {} 个，抽样单 {} 份，签字 {} 个，拒检/问题 {} 条，流转记录 {} 条，\
         实验室样品 {} 个（检验结果 {} 条，检验报告 {} 份）。",
        args.seed,
        started.elapsed().as_secs_f64(),
        counts.enterprises,
        counts.users,
        counts.plans,
        counts.items,
        counts.tasks,
        counts.records,
        counts.signatures,
        counts.outcomes,
        counts.custody_events,
        counts.lab_samples,
        counts.lab_results,
        counts.lab_reports
    );
    Ok(ExitCode::SUCCESS)
}
