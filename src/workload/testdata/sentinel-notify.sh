#!/bin/sh
# Rendered by the valkey charm. Sentinel runs this with <event-type> <description> for
# every warning-level event; the ones below ask for the charm's services-changed hook.
case "$1" in
+sdown|-sdown|+odown|-odown|+failover-end|-failover-abort-*|+tilt|-tilt) : > '/var/lib/valkey/run/events/services-changed' ;;
esac
exit 0
