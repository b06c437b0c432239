"""A charm author's integration test, written with Canonical's jubilant, run against juju-local.

Usage: python jubilant_scenario.py JUJU_LOCAL_BINARY TEST_CHARM_DIR MODEL_NAME

Every check raises AssertionError (or what jubilant raises) on failure; the last line printed is
`jubilant scenario: ok`. Driven by local-model/tests/jubilant.rs with the venv scripts/setup makes.
"""

import sys

import jubilant


def expect(exc_type, fn, *args, **kwargs):
    """Calls fn and returns the exception of exc_type it must raise."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError(f'{fn.__name__}{args} did not raise {exc_type.__name__}')


def main():
    binary, charm, model = sys.argv[1:4]
    juju = jubilant.Juju(cli_binary=binary)

    version = juju.version()
    assert version.tuple >= (3, 6, 0), version
    print('version', version)

    juju.add_model(model)
    assert juju.model == model
    try:
        scenario(juju, charm, model)
    finally:
        juju.destroy_model(model, destroy_storage=True, force=True)
    assert model not in juju.cli('models', include_model=False)
    print('jubilant scenario: ok')


def scenario(juju, charm, model):
    juju.model_config({'update-status-hook-interval': '1h', 'hook-retry-delay': '200ms'})
    # Juju keeps the string as given; juju-local prints the Go duration of what it stored.
    assert juju.model_config()['update-status-hook-interval'] in ('1h', '1h0m0s')

    info = juju.show_model()
    assert info.short_name == model and info.model_type == 'iaas' and info.life == 'alive', info

    juju.deploy(charm, 'app', num_units=2, config={'greeting': 'hi', 'workers': 3})
    status = juju.wait(jubilant.all_active, timeout=60)
    app = status.apps['app']
    assert app.charm == 'local:test-charm-0', app.charm
    assert app.charm_name == 'test-charm' and app.charm_origin == 'local', app
    assert app.relations['cluster'][0].interface == 'test-cluster', app.relations
    assert sorted(app.units) == ['app/0', 'app/1'], app.units
    assert sum(u.leader for u in app.units.values()) == 1, app.units
    assert all(u.workload_status.message == 'unit ready' for u in app.units.values())
    assert status.get_units('app')['app/0'].machine in status.machines
    storage = status.storage.storage
    assert len(storage) == 2 and all(s.kind == 'filesystem' for s in storage.values()), storage

    config = juju.config('app')
    assert config['greeting'] == 'hi' and config['workers'] == 3 and config['verbose'] is False
    assert 'ratio' not in config, config
    assert juju.config('app', app_config=True) == {'trust': False}
    juju.config('app', {'greeting': 'bye'})
    assert juju.config('app')['greeting'] == 'bye'
    juju.config('app', reset='greeting')
    assert juju.config('app')['greeting'] == 'hello'

    task = juju.run('app/0', 'echo', {'text': 'hey', 'times': 2})
    assert task.status == 'completed' and task.return_code == 0, task
    assert task.results == {'echoed': 'hey', 'times': '2'}, task.results
    assert task.log == [] or any('echoed hey' in line for line in task.log), task.log
    leader = next(name for name, u in juju.status().apps['app'].units.items() if u.leader)
    assert juju.run('app/leader', 'echo', {'text': 'x'}).results['echoed'] == 'x'

    failed = expect(jubilant.TaskError, juju.run, 'app/0', 'fail')
    assert failed.task.status == 'failed' and failed.task.message == 'asked to fail', failed.task
    expect(ValueError, juju.run, 'app/0', 'no-such-action')
    expect(ValueError, juju.run, 'app/9', 'echo', {'text': 'x'})
    expect(ValueError, juju.run, 'app/0', 'echo', {'text': 'x', 'times': 0})
    expect(ValueError, juju.run, 'app/0', 'echo', {'txt': 'x'})

    done = juju.exec('echo $JUJU_UNIT_NAME; config-get greeting', unit='app/1')
    assert done.stdout == 'app/1\nhello\n', done
    bad = expect(jubilant.TaskError, juju.exec, 'echo oops >&2; exit 3', unit='app/1')
    assert bad.task.return_code == 3 and bad.task.stderr == 'oops\n', bad.task
    expect(ValueError, juju.exec, 'true', unit='app/9')

    unit = juju.show_unit('app/0')
    assert unit.leader == (leader == 'app/0'), unit
    assert unit.charm == 'local:test-charm-0' and unit.machine, unit
    assert unit.relation_info[0].endpoint == 'cluster', unit.relation_info
    assert 'app/1' in unit.relation_info[0].related_units, unit.relation_info

    juju.add_unit('app')
    status = juju.wait(lambda s: jubilant.all_active(s) and len(s.apps['app'].units) == 3, timeout=60)
    juju.remove_unit('app/2')
    juju.wait(lambda s: sorted(s.apps['app'].units) == ['app/0', 'app/1'], timeout=60)

    log = juju.debug_log(limit=5)
    assert 0 < len(log.splitlines()) <= 5, log
    assert 'app/' in log, log

    assert juju.secrets() == []
    juju.exec(
        'f=$(mktemp) && printf abc > $f && secret-add --label s1 pass#file=$f && rm $f'
        ' && secret-add --label s2 pass#base64=eHk=',
        unit=leader,
    )
    secrets = juju.secrets()
    assert sorted(s.label for s in secrets) == ['s1', 's2'], secrets
    assert all(s.owner == 'app' and s.revision == 1 for s in secrets), secrets
    by_label = {s.label: s for s in secrets}
    revealed = juju.show_secret(by_label['s1'].uri, reveal=True)
    assert revealed.content == {'pass': 'abc'} and revealed.label == 's1', revealed
    assert juju.show_secret(by_label['s2'].uri, reveal=True).content == {'pass': 'xy'}
    history = juju.show_secret(by_label['s2'].uri, revisions=True)
    assert [r.revision for r in history.revisions] == [1], history

    relations(juju, charm, leader)

    juju.remove_application('app')
    juju.wait(lambda s: 'app' not in s.apps, timeout=60)


def relations(juju, charm, leader):
    """A second application related to the first, a secret shared over the relation, and the
    relation removed again, as jubilant drives them."""
    requirer = charm.rstrip('/').rsplit('/', 1)[0] + '/requirer-charm'
    juju.deploy(requirer, 'client')
    juju.integrate('app', 'client')
    status = juju.wait(lambda s: jubilant.all_active(s) and jubilant.all_agents_idle(s), timeout=60)
    source = status.apps['app'].relations['source']
    assert [(r.related_app, r.interface) for r in source] == [('client', 'test-data')], source
    assert status.apps['client'].relations['upstream'][0].related_app == 'app'
    rel = juju.exec('relation-ids upstream', unit='client/0').stdout.strip()
    assert rel.startswith('upstream:'), rel
    uri = juju.exec('secret-add shared=yes', unit=leader).stdout.strip()
    juju.exec(f'secret-grant {uri} -r source:{rel.split(":")[1]}', unit=leader)
    assert juju.exec(f'secret-get {uri} shared', unit='client/0').stdout == 'yes\n'
    juju.remove_relation('app', 'client')
    juju.wait(lambda s: 'source' not in s.apps['app'].relations, timeout=60)
    assert juju.exec('relation-ids upstream', unit='client/0').stdout == ''
    expect(jubilant.TaskError, juju.exec, f'secret-get {uri}', unit='client/0')
    juju.remove_application('client')
    juju.wait(lambda s: 'client' not in s.apps, timeout=60)


if __name__ == '__main__':
    main()
