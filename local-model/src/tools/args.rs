//! GNU-style command-line parsing for the hook tools, with the rules Juju's `gnuflag` applies:
//! flags anywhere among the positionals, `--flag=v` / `--flag v` / `-r5` / `-r 5`, `--` ends the
//! flags, a lone `-` is a positional, and boolean flags take an optional `=true|false|1|0`.
//! Errors are usage errors (exit 2) worded like Go's flag package, because charms and people
//! grep for those texts.

use super::ToolError;
use std::collections::BTreeMap;

/// Whether a flag takes a value or is a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// `--relation 0`, `--relation=0`, `-r0`.
    Value,
    /// `--app`, `--app=false`.
    Switch,
}

/// One flag a tool accepts. The first name is the key results are stored under; one-letter names
/// are written `-x`, longer ones `--name`.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// All spellings, canonical first (`["r", "relation"]` is stored under `r`).
    pub names: &'static [&'static str],
    /// Value or switch.
    pub takes: Takes,
}

impl Flag {
    /// A flag that takes a value.
    pub const fn value(names: &'static [&'static str]) -> Flag {
        Flag { names, takes: Takes::Value }
    }

    /// A boolean switch.
    pub const fn switch(names: &'static [&'static str]) -> Flag {
        Flag { names, takes: Takes::Switch }
    }

    fn key(&self) -> &'static str {
        self.names[0]
    }
}

/// The `--format` and `-o/--output` flags every tool with output accepts.
pub const OUTPUT_FLAGS: [Flag; 2] = [Flag::value(&["format"]), Flag::value(&["o", "output"])];

/// The result of parsing: flag values by canonical name, and the positionals in order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Parsed {
    /// Every value given for each value flag, in order (the last one wins for single-valued flags).
    values: BTreeMap<&'static str, Vec<String>>,
    /// Switch states; absent means not given.
    switches: BTreeMap<&'static str, bool>,
    /// Arguments that are not flags.
    pub positionals: Vec<String>,
}

impl Parsed {
    /// The last value given for a value flag.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(|v| v.last()).map(String::as_str)
    }

    /// Every value given for a repeatable value flag.
    pub fn values(&self, key: &str) -> &[String] {
        self.values.get(key).map_or(&[], Vec::as_slice)
    }

    /// Whether a switch is on.
    pub fn switch(&self, key: &str) -> bool {
        self.switches.get(key).copied().unwrap_or(false)
    }

    /// Fails with Juju's `unrecognized args` usage error when more than `max` positionals were given.
    pub fn at_most(&self, max: usize) -> Result<(), ToolError> {
        if self.positionals.len() > max {
            return Err(unrecognized(&self.positionals[max..]));
        }
        Ok(())
    }
}

/// Juju's `unrecognized args: ["a" "b"]` usage error.
pub fn unrecognized(extra: &[String]) -> ToolError {
    let quoted: Vec<String> = extra.iter().map(|a| go_quote(a)).collect();
    ToolError::Usage(format!("unrecognized args: [{}]", quoted.join(" ")))
}

/// A string quoted the way Go's `%q` does for the characters that occur in practice.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Parses `args`, allowing flags among the positionals (what every hook tool but `juju-exec` does).
pub fn parse(flags: &[Flag], args: &[String]) -> Result<Parsed, ToolError> {
    parse_with(flags, args, true)
}

/// Parses `args`; with `intersperse` false, the first positional ends the flags (so a command line
/// after a unit name keeps its own flags).
pub fn parse_with(flags: &[Flag], args: &[String], intersperse: bool) -> Result<Parsed, ToolError> {
    let mut parsed = Parsed::default();
    let mut only_positionals = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_positionals || arg == "-" || !arg.starts_with('-') {
            parsed.positionals.push(arg.clone());
            if !intersperse {
                only_positionals = true;
            }
            continue;
        }
        if arg == "--" {
            only_positionals = true;
            continue;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let flag = find(flags, name).ok_or_else(|| undefined(&format!("--{name}")))?;
            take(&mut parsed, flag, &format!("--{name}"), inline, args, &mut i)?;
            continue;
        }
        let body = &arg[1..];
        for (at, c) in body.char_indices() {
            let name = &body[at..at + c.len_utf8()];
            let flag = find(flags, name).ok_or_else(|| undefined(&format!("-{name}")))?;
            let rest = &body[at + c.len_utf8()..];
            let display = format!("-{name}");
            match flag.takes {
                Takes::Value => {
                    let inline = if rest.is_empty() { None } else { Some(rest.trim_start_matches('=')) };
                    take(&mut parsed, flag, &display, inline.map(str::to_string), args, &mut i)?;
                    break;
                }
                Takes::Switch if rest.starts_with('=') => {
                    take(&mut parsed, flag, &display, Some(rest[1..].to_string()), args, &mut i)?;
                    break;
                }
                Takes::Switch => take(&mut parsed, flag, &display, None, args, &mut i)?,
            }
        }
    }
    Ok(parsed)
}

fn find<'f>(flags: &'f [Flag], name: &str) -> Option<&'f Flag> {
    flags.iter().find(|f| f.names.contains(&name))
}

fn undefined(display: &str) -> ToolError {
    ToolError::Usage(format!("option provided but not defined: {display}"))
}

fn take(
    parsed: &mut Parsed,
    flag: &Flag,
    display: &str,
    inline: Option<String>,
    args: &[String],
    next: &mut usize,
) -> Result<(), ToolError> {
    match flag.takes {
        Takes::Value => {
            let value = match inline {
                Some(v) => v,
                None if *next < args.len() => {
                    *next += 1;
                    args[*next - 1].clone()
                }
                None => return Err(ToolError::Usage(format!("option needs an argument: {display}"))),
            };
            parsed.values.entry(flag.key()).or_default().push(value);
        }
        Takes::Switch => {
            let on = match inline {
                None => true,
                Some(v) => parse_bool(&v).ok_or_else(|| {
                    ToolError::Usage(format!("invalid boolean value {} for {display}", go_quote(&v)))
                })?,
            };
            parsed.switches.insert(flag.key(), on);
        }
    }
    Ok(())
}

/// Go's `strconv.ParseBool`: the spellings charms use for boolean flags.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "True" | "TRUE" => Some(true),
        "0" | "f" | "F" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Splits `key=value`; `None` when there is no `=`.
pub fn key_value(arg: &str) -> Option<(&str, &str)> {
    arg.split_once('=')
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: [Flag; 4] = [
        Flag::value(&["r", "relation"]),
        Flag::switch(&["app"]),
        Flag::value(&["format"]),
        Flag::switch(&["v"]),
    ];

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_mix_with_positionals_in_every_spelling() {
        let p = parse(&FLAGS, &args(&["-", "-r5", "--app", "valkey/1", "--format=json"])).unwrap();
        assert_eq!(p.positionals, ["-", "valkey/1"]);
        assert_eq!(p.value("r"), Some("5"));
        assert!(p.switch("app"));
        assert_eq!(p.value("format"), Some("json"));
        let p = parse(&FLAGS, &args(&["--relation", "peers:3", "-r", "7", "--app=False"])).unwrap();
        assert_eq!(p.value("r"), Some("7"));
        assert_eq!(p.values("r"), ["peers:3", "7"]);
        assert!(!p.switch("app"));
        let p = parse(&FLAGS, &args(&["-vr", "2"])).unwrap();
        assert!(p.switch("v"));
        assert_eq!(p.value("r"), Some("2"));
    }

    #[test]
    fn double_dash_ends_flags_and_no_intersperse_stops_at_first_positional() {
        let p = parse(&FLAGS, &args(&["--app", "--", "--format", "-r"])).unwrap();
        assert_eq!(p.positionals, ["--format", "-r"]);
        let p = parse_with(&FLAGS, &args(&["--app", "unit/0", "ls", "-la"]), false).unwrap();
        assert_eq!(p.positionals, ["unit/0", "ls", "-la"]);
    }

    #[test]
    fn usage_errors_are_worded_like_go() {
        let err = parse(&FLAGS, &args(&["--nope"])).unwrap_err();
        assert_eq!(err.to_string(), "option provided but not defined: --nope");
        let err = parse(&FLAGS, &args(&["-x"])).unwrap_err();
        assert_eq!(err.to_string(), "option provided but not defined: -x");
        let err = parse(&FLAGS, &args(&["-r"])).unwrap_err();
        assert_eq!(err.to_string(), "option needs an argument: -r");
        let err = parse(&FLAGS, &args(&["--app=maybe"])).unwrap_err();
        assert_eq!(err.to_string(), "invalid boolean value \"maybe\" for --app");
        assert!(matches!(err, ToolError::Usage(_)));
        let p = parse(&FLAGS, &args(&["a", "b", "c"])).unwrap();
        assert_eq!(p.at_most(1).unwrap_err().to_string(), "unrecognized args: [\"b\" \"c\"]");
    }

    #[test]
    fn booleans_accept_go_spellings() {
        for (s, want) in [("true", true), ("True", true), ("1", true), ("false", false), ("0", false)] {
            assert_eq!(parse_bool(s), Some(want), "{s}");
        }
        assert_eq!(parse_bool("yes"), None);
    }
}
