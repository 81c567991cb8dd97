//! The command line in Chinese: clap's own words ("Usage", "Options", "Print help", "[default: …]",
//! "error: unrecognized subcommand", "For more information, try '--help'") never reach an operator.
//! `localize` rewrites the derived command tree (own help templates and usage lines, `-h/--help` and
//! `-V/--version` with Chinese help, defaults and environment variables written into the help text);
//! `explain` turns a parse error into a Chinese message by its kind.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

/// The whole command tree in Chinese.
pub fn localize(cmd: Command) -> Command {
    let cmd = cmd
        .disable_version_flag(true)
        .arg(Arg::new("version").short('V').long("version").action(ArgAction::Version).help("显示版本号"))
        .arg(Arg::new("help").short('h').long("help").action(ArgAction::Help).global(true).help("显示帮助"));
    let name = cmd.get_name().to_string();
    localize_one(cmd, &name)
}

fn localize_one(mut cmd: Command, path: &str) -> Command {
    cmd = cmd.disable_help_flag(true).disable_help_subcommand(true).subcommand_value_name("命令");
    let ids: Vec<String> = cmd.get_arguments().map(|a| a.get_id().to_string()).collect();
    for id in ids {
        cmd = cmd.mut_arg(id, localize_arg);
    }
    let has_subcommands = cmd.has_subcommands();
    let positionals: Vec<String> = cmd
        .get_positionals()
        .map(|a| {
            let name = a.get_value_names().and_then(|v| v.first()).map(ToString::to_string).unwrap_or_default();
            if a.is_required_set() { format!("<{name}>") } else { format!("[{name}]") }
        })
        .collect();
    let mut usage = format!("{path} [选项]");
    for p in &positionals {
        usage.push(' ');
        usage.push_str(p);
    }
    if has_subcommands {
        usage.push_str(" <命令>");
    }
    let mut template = String::from("{before-help}{about-with-newline}\n用法：{usage}\n");
    if has_subcommands {
        template.push_str("\n命令：\n{subcommands}\n");
    }
    if !positionals.is_empty() {
        template.push_str("\n参数：\n{positionals}\n");
    }
    template.push_str("\n选项：\n{options}\n{after-help}");
    cmd = cmd.override_usage(usage).help_template(template);
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for n in names {
        let sub_path = format!("{path} {n}");
        cmd = cmd.mut_subcommand(n, |s| localize_one(s, &sub_path));
    }
    cmd
}

/// One argument: Chinese value names stay, defaults and environment variables move into the help.
fn localize_arg(mut arg: Arg) -> Arg {
    if !arg.get_action().takes_values() {
        return arg;
    }
    let mut help = arg.get_help().map(ToString::to_string).unwrap_or_default();
    let defaults: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
    if !defaults.is_empty() && !arg.is_hide_default_value_set() {
        help.push_str(&format!("（默认：{}）", defaults.join("、")));
        arg = arg.hide_default_value(true);
    }
    if let Some(env) = arg.get_env() {
        let env = env.to_string_lossy().into_owned();
        if !help.contains(&env) {
            help.push_str(&format!(" [环境变量 {env}]"));
        }
        arg = arg.hide_env(true);
    }
    arg.hide_possible_values(true).help(help)
}

fn text(v: Option<&ContextValue>) -> String {
    match v {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join("、"),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(v)) => v.iter().map(ToString::to_string).collect::<Vec<_>>().join("、"),
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A parse error in Chinese (without the "错误：" prefix and without the pointer to the help).
pub fn explain(e: &clap::Error) -> String {
    let get = |k: ContextKind| text(e.get(k));
    let arg = get(ContextKind::InvalidArg);
    let value = get(ContextKind::InvalidValue);
    let mut message = match e.kind() {
        ErrorKind::InvalidSubcommand => format!("无法识别的子命令“{}”", get(ContextKind::InvalidSubcommand)),
        ErrorKind::UnknownArgument => format!("无法识别的参数“{arg}”"),
        ErrorKind::InvalidValue => {
            if value.is_empty() {
                format!("参数 {arg} 需要一个值")
            } else {
                format!("参数 {arg} 的值“{value}”无效")
            }
        }
        ErrorKind::ValueValidation => format!("参数 {arg} 的值“{value}”无效"),
        ErrorKind::NoEquals => format!("参数 {arg} 须用“=”给出值"),
        ErrorKind::TooManyValues => format!("参数 {arg} 的值“{value}”多余"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => format!("参数 {arg} 的值个数不对"),
        ErrorKind::ArgumentConflict => {
            let prior = get(ContextKind::PriorArg);
            if prior.is_empty() {
                format!("参数 {arg} 不能重复给出")
            } else {
                format!("参数 {arg} 不能与 {prior} 同时使用")
            }
        }
        ErrorKind::MissingRequiredArgument => format!("缺少必需的参数：{arg}"),
        ErrorKind::MissingSubcommand => "缺少子命令".to_string(),
        ErrorKind::InvalidUtf8 => "参数含有无效的 UTF-8 字符".to_string(),
        _ => "命令行参数有误".to_string(),
    };
    let suggestions = [get(ContextKind::SuggestedSubcommand), get(ContextKind::SuggestedArg)];
    if let Some(s) = suggestions.iter().find(|s| !s.is_empty()) {
        message.push_str(&format!("；是否要用“{s}”？"));
    }
    let valid = get(ContextKind::ValidValue);
    if !valid.is_empty() {
        message.push_str(&format!("（可选：{valid}）"));
    }
    message
}

/// Where to read more: `choucha <subcommand…> --help` for the subcommands named on the line.
pub fn help_hint(cmd: &Command, args: &[String]) -> String {
    let mut path = vec![cmd.get_name().to_string()];
    let mut at = cmd;
    for a in args.iter().skip(1) {
        if a.starts_with('-') {
            continue;
        }
        match at.find_subcommand(a) {
            Some(s) => {
                path.push(a.clone());
                at = s;
            }
            None => break,
        }
    }
    format!("更多信息请运行“{} --help”。", path.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> Command {
        Command::new("demo")
            .version("1.0")
            .about("演示")
            .arg(Arg::new("count").long("count").default_value("3").help("次数"))
            .subcommand(Command::new("go").about("出发").arg(Arg::new("id").value_name("编号").required(true)))
    }

    #[test]
    fn help_has_no_english_words_of_clap() {
        let mut c = localize(cmd());
        let help = c.render_help().to_string();
        assert!(help.contains("用法：demo [选项] <命令>"), "{help}");
        assert!(help.contains("显示帮助") && help.contains("（默认：3）"), "{help}");
        for english in ["Usage", "Options", "Commands", "Print", "default:"] {
            assert!(!help.contains(english), "{english} in {help}");
        }
        assert!(!help.lines().any(|l| l.trim_start().starts_with("help ")), "no help subcommand: {help}");
        let mut go = c.find_subcommand_mut("go").expect("go").clone();
        let help = go.render_help().to_string();
        assert!(help.contains("用法：demo go [选项] <编号>"), "{help}");
    }

    #[test]
    fn errors_are_explained_in_chinese() {
        let e = localize(cmd()).try_get_matches_from(["demo", "fly"]).expect_err("unknown subcommand");
        assert_eq!(explain(&e), "无法识别的子命令“fly”");
        let e = localize(cmd()).try_get_matches_from(["demo", "--bad"]).expect_err("bad flag");
        assert!(explain(&e).starts_with("无法识别的参数“--bad”"), "{}", explain(&e));
        let e = localize(cmd()).try_get_matches_from(["demo", "go"]).expect_err("missing id");
        assert_eq!(explain(&e), "缺少必需的参数：<编号>");
    }
}
