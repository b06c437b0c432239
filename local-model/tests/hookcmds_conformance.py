"""Drives every function of ops.hookcmds (ops 3.x's typed hook-tool wrapper) from inside a unit.

Run by the test charm's `hookcmds` action (local-model/tests/hookcmds.rs), so it executes in an
action context of unit `<app>/0` of a two-unit deployment. Prints one line per function,
`ok <name>` or `FAIL <name>: <why>`, then `covered <n>`. The unsupported tools (storage-add,
juju-reboot, credential-get) must fail with ops.hookcmds.Error and a clear ERROR message.
"""

import datetime
import inspect
import traceback

from ops import hookcmds as h

results = {}


def check(name, fn):
    try:
        fn()
        results[name] = None
    except Exception:  # noqa: BLE001 - every failure is reported, none hides another
        results[name] = traceback.format_exc().strip().splitlines()[-1]


def expect_error(name, fn, needle):
    def run():
        try:
            fn()
        except h.Error as e:
            assert e.returncode != 0 and needle in e.stderr and e.stderr.startswith('ERROR'), e.stderr
            return
        raise AssertionError(f'{name} did not fail')

    check(name, run)


def main():
    unit = h.action_get('unit')
    peer = h.action_get('peer')
    app = unit.split('/')[0]
    (ref,) = h.relation_ids('cluster')
    rid = int(ref.split(':')[1])

    # Actions.
    check('action_get', lambda: assert_eq(h.action_get('peer'), peer))
    check('action_log', lambda: h.action_log('conformance running'))
    check('action_set', lambda: h.action_set({'outcome': {'nested': 'yes'}, 'plain': 'x'}))

    # Other.
    check('app_version_set', lambda: h.app_version_set('1.2.3'))
    check('config_get', lambda: assert_eq(h.config_get('workers'), 2) or assert_eq(h.config_get()['greeting'], 'hello'))
    check('goal_state', lambda: goal_state(app, unit, peer))
    check('is_leader', lambda: assert_eq(h.is_leader(), True))
    check('juju_log', lambda: h.juju_log('conformance log line', level='WARNING'))
    check('network_get', lambda: assert_true(h.network_get('cluster', relation_id=rid).bind_addresses))
    check('resource_get', lambda: assert_eq(h.resource_get('payload').read_text(), 'payload-data\n'))
    expect_error('credential_get', h.credential_get, 'credential-get')
    expect_error('juju_reboot', h.juju_reboot, 'juju-reboot')

    # Ports.
    check('open_port', lambda: h.open_port('tcp', 7000))
    check('opened_ports', lambda: assert_eq([(p.protocol, p.port) for p in h.opened_ports()], [('tcp', 7000)]))
    check('close_port', lambda: h.close_port('tcp', 7000) or assert_eq(h.opened_ports(), []))

    # Relations.
    check('relation_ids', lambda: assert_eq(h.relation_ids('cluster'), [f'cluster:{rid}']))
    check('relation_list', lambda: assert_eq(h.relation_list(rid), [peer]))
    check('relation_set', lambda: h.relation_set({'conformance': 'set'}, rid))
    check('relation_get', lambda: assert_eq(h.relation_get(rid, unit=unit)['conformance'], 'set'))
    check('relation_model_get', lambda: assert_true(h.relation_model_get(rid).uuid))

    # Secrets.
    ids = {}

    def add():
        ids['uri'] = h.secret_add({'password': 'a b\nc'}, label='conformance', description='d', rotate='daily')
        assert ids['uri'].startswith('secret:'), ids

    check('secret_add', add)
    check('secret_get', lambda: assert_eq(h.secret_get(id=ids['uri']), {'password': 'a b\nc'}))
    check('secret_ids', lambda: assert_true(ids['uri'].split(':')[-1] in [i.split(':')[-1] for i in h.secret_ids()]))
    check('secret_info_get', lambda: assert_eq(h.secret_info_get(label='conformance').label, 'conformance'))
    check('secret_set', lambda: h.secret_set(ids['uri'], content={'password': 'second'}, description='e'))
    check('secret_grant', lambda: h.secret_grant(ids['uri'], rid, unit=peer))
    check('secret_revoke', lambda: h.secret_revoke(ids['uri'], relation_id=rid, unit=peer))
    check('secret_remove', lambda: h.secret_remove(ids['uri']))

    # Unit state.
    check('state_set', lambda: h.state_set({'alpha': '1', 'beta': 'two words'}))
    check('state_get', lambda: assert_eq(h.state_get('beta'), 'two words') or assert_eq(h.state_get(None)['alpha'], '1'))
    check('state_delete', lambda: h.state_delete('alpha') or assert_eq(set(h.state_get(None)), {'beta'}))

    # Status.
    check('status_set', lambda: h.status_set('maintenance', 'conformance') or h.status_set('active', 'app ok', app=True))
    check('status_get', lambda: assert_eq(h.status_get().status, 'maintenance') or assert_eq(h.status_get(app=True).status, 'active'))

    # Storage.
    check('storage_list', lambda: assert_eq(len(h.storage_list('data')), 1))
    check('storage_get', lambda: assert_true(str(h.storage_get(h.storage_list('data')[0]).location)))
    expect_error('storage_add', lambda: h.storage_add({'data': 1}), 'storage-add')

    # Last: the action reports failure, which is itself checked by the caller.
    check('action_fail', lambda: h.action_fail('conformance done'))

    every = sorted(n for n, f in inspect.getmembers(h, inspect.isfunction) if not n.startswith('_'))
    for name in every:
        if name not in results:
            results[name] = 'not exercised'
    for name in sorted(results):
        print(f'ok {name}' if results[name] is None else f'FAIL {name}: {results[name]}')
    print(f'covered {len(every)}')


def goal_state(app, unit, peer):
    gs = h.goal_state()
    assert set(gs.units) == {unit, peer}, gs.units
    assert gs.units[unit].status == 'active' and isinstance(gs.units[unit].since, datetime.datetime), gs
    assert set(gs.relations['cluster']) == {app, unit, peer}, gs.relations
    assert gs.relations['cluster'][app].status == 'joined', gs.relations


def assert_eq(a, b):
    assert a == b, f'{a!r} != {b!r}'


def assert_true(v):
    assert v, repr(v)


if __name__ == '__main__':
    main()
