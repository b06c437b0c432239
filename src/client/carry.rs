//! Pure: client users survive a re-rendered config file.
//!
//! Every unit persists its client users into valkey.conf (`CONFIG REWRITE`) and sentinel.conf
//! (`SENTINEL FLUSHCONFIG`) as `user relation-… on #<hash> …` lines. The charm re-renders
//! valkey.conf from scratch on a settings change, a restart as a replica, a rebind; without
//! these lines a Valkey started from the new file would refuse every client (`WRONGPASS`) until
//! the client pass later in the same hook set the users again. So a re-render carries the
//! previous file's client user lines over: the users are in the file from the moment it is
//! written. A user whose relation went while this unit could not persist its removal is carried
//! too, and deleted by the client pass of the same hook (as on a Valkey that never restarted).

use super::acl::USER_PREFIX;

/// The client users' `user` lines of a config file Valkey or Sentinel wrote (only well-formed
/// ones: `user relation-<name> <rules…>`, one line each).
pub fn client_user_lines(conf: &str) -> Vec<&str> {
    conf.lines()
        .map(str::trim_end)
        .filter(|l| {
            let mut words = l.split(' ');
            words.next() == Some("user")
                && words.next().is_some_and(|n| n.len() > USER_PREFIX.len() && n.starts_with(USER_PREFIX))
                && words.next().is_some()
        })
        .collect()
}

/// `rendered` (a fresh file holding no client user) with the client users of `previous` (the
/// file it replaces, if any) appended.
pub fn keep_client_users(mut rendered: String, previous: Option<&str>) -> String {
    let lines = previous.map(client_user_lines).unwrap_or_default();
    if lines.is_empty() {
        return rendered;
    }
    if !rendered.ends_with('\n') {
        rendered.push('\n');
    }
    rendered.push_str("# Client users of the valkey-client relation (the charm's client pass keeps them).\n");
    for l in lines {
        rendered.push_str(l);
        rendered.push('\n');
    }
    rendered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_client_user_lines_are_kept() {
        let previous = "port 6379\n\
            user default off resetchannels -@all\n\
            user admin on #aa ~* &* +@all\n\
            user relation-4-0123456789abcdef on sanitize-payload #bb ~a:* &a:* resetchannels -@all +@read\n\
            # user relation-5-x on #cc\n\
            user relation-\n\
            user relation-6-x\n\
            users relation-7-x on\n";
        assert_eq!(
            client_user_lines(previous),
            ["user relation-4-0123456789abcdef on sanitize-payload #bb ~a:* &a:* resetchannels -@all +@read"]
        );
    }

    #[test]
    fn a_re_render_keeps_the_client_users_and_nothing_else_of_the_old_file() {
        let fresh = "port 6379\nuser admin on #new ~* &* +@all\n".to_string();
        let previous =
            "port 6380\nuser admin on #old ~* &* +@all\nuser relation-4-ab on #h ~a:* -@all +get\n";
        let kept = keep_client_users(fresh.clone(), Some(previous));
        assert!(kept.starts_with(&fresh), "{kept}");
        assert!(kept.ends_with("user relation-4-ab on #h ~a:* -@all +get\n"), "{kept}");
        assert!(!kept.contains("#old") && !kept.contains("6380"), "{kept}");
        assert_eq!(keep_client_users(fresh.clone(), None), fresh);
        assert_eq!(keep_client_users(fresh.clone(), Some("port 1\n")), fresh);
    }
}
