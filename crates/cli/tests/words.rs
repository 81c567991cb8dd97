//! The command line speaks Chinese: `choucha --help`, a subcommand's help, an unknown subcommand
//! and a wrong flag print Chinese, with none of clap's own English words.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::Output;

mod common;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// clap's own words, which must never reach an operator.
const ENGLISH: [&str; 14] = [
    "Usage",
    "Options",
    "Commands",
    "Arguments",
    "Print help",
    "Print version",
    "error:",
    "unrecognized",
    "unexpected argument",
    "possible values",
    "For more information",
    "[default:",
    "[env:",
    "tip:",
];

fn assert_chinese(o: &Output, what: &str) {
    let t = text(o);
    for e in ENGLISH {
        assert!(!t.contains(e), "{what} prints clap's “{e}”:\n{t}");
    }
    assert!(t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{what} prints Chinese:\n{t}");
}

#[test]
fn help_is_chinese() {
    let o = common::output(&["--help"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_chinese(&o, "choucha --help");
    let t = text(&o);
    assert!(t.contains("用法：choucha [选项] <命令>"), "{t}");
    assert!(t.contains("命令：") && t.contains("serve") && t.contains("启动 Web 服务"), "{t}");
    assert!(t.contains("-h, --help") && t.contains("显示帮助") && t.contains("显示版本号"), "{t}");
    assert!(!t.lines().any(|l| l.trim_start().starts_with("help ")), "no help subcommand:\n{t}");

    let o = common::output(&["-h"]);
    assert!(o.status.success());
    assert_chinese(&o, "choucha -h");
}

#[test]
fn subcommand_help_is_chinese() {
    let o = common::output(&["serve", "--help"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_chinese(&o, "choucha serve --help");
    let t = text(&o);
    assert!(t.contains("用法：choucha serve [选项]"), "{t}");
    assert!(t.contains("--today <日期>") && t.contains("培训实例"), "{t}");
    assert!(t.contains("[环境变量 CHOUCHA_CONFIG]"), "{t}");

    let o = common::output(&["bench-data", "--help"]);
    assert_chinese(&o, "choucha bench-data --help");
    assert!(text(&o).contains("（默认：1000000）"), "{}", text(&o));

    let o = common::output(&["user", "create", "--help"]);
    assert_chinese(&o, "choucha user create --help");
    assert!(text(&o).contains("<用户名>"), "{}", text(&o));
}

#[test]
fn an_unknown_subcommand_is_refused_in_chinese() {
    let o = common::output(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert_chinese(&o, "choucha frobnicate");
    let t = text(&o);
    assert!(t.contains("错误：无法识别的子命令“frobnicate”"), "{t}");
    assert!(t.contains("更多信息请运行“choucha --help”"), "{t}");

    // A near miss gets a suggestion.
    let t = text(&common::output(&["serv"]));
    assert!(t.contains("是否要用“") && t.contains("serve”"), "{t}");
}

#[test]
fn a_bad_flag_is_refused_in_chinese() {
    let o = common::output(&["serve", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
    assert_chinese(&o, "choucha serve --no-such-flag");
    let t = text(&o);
    assert!(t.contains("错误：无法识别的参数“--no-such-flag”"), "{t}");
    assert!(t.contains("更多信息请运行“choucha serve --help”"), "{t}");

    let o = common::output(&["serve", "--today", "2025-13-45"]);
    assert_eq!(o.status.code(), Some(2));
    assert_chinese(&o, "a wrong date");
    assert!(text(&o).contains("参数 --today <日期> 的值“2025-13-45”无效"), "{}", text(&o));

    let o = common::output(&["user", "create"]);
    assert_chinese(&o, "a missing argument");
    assert!(text(&o).contains("缺少必需的参数"), "{}", text(&o));

    let o = common::output(&["audit"]);
    assert_chinese(&o, "a missing subcommand");
}
