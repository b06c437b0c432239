#!/bin/sh
# Rendered by the valkey charm. Sentinel runs this at +switch-master with:
#   <monitor-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>
# It queues the charm's primary-changed event and returns at once.
'/usr/bin/juju-exec' 'valkey/1' -- env JUJU_DISPATCH_PATH=hooks/primary-changed ./dispatch </dev/null >/dev/null 2>&1 &
exit 0
