"""Debian's python3-consul against the micromesh agent: the calls a Python
service makes, one JSON line per step on stdout. Argv: host port. On
"blocking" it waits (10 s at most) for the test to change the mesh."""
import json
import sys
import time

import consul

host, port = sys.argv[1], int(sys.argv[2])
c = consul.Consul(host=host, port=port)


def say(**kw):
    print(json.dumps(kw), flush=True)


index, services = c.catalog.services()
say(step='services', index=index, names=sorted(services))
index, entries = c.health.service('greeter', passing=True)
say(step='health', index=index, count=len(entries), ports=sorted(e['Service']['Port'] for e in entries))
c.agent.service.register('pyweb', service_id='pyweb', port=9000, tags=['py'], check=consul.Check.ttl('2s'))
_, entries = c.health.service('pyweb')
say(step='registered', status=[ch['Status'] for ch in entries[0]['Checks']])
c.agent.check.ttl_pass('service:pyweb', notes='all good')
_, entries = c.health.service('pyweb', passing=True)
say(step='passed', count=len(entries), output=entries[0]['Checks'][1]['Output'] if entries else None)
time.sleep(3)
_, entries = c.health.service('pyweb')
say(step='expired', status=entries[0]['Checks'][1]['Status'], output=entries[0]['Checks'][1]['Output'])
c.agent.service.deregister('pyweb')

index, entries = c.health.service('greeter')
say(step='blocking', index=index, count=len(entries))
start = time.time()
index2, entries = c.health.service('greeter', index=index, wait='10s')
say(step='woke', index=index2, count=len(entries), returned_at_ms=time.time() * 1000, waited_ms=(time.time() - start) * 1000)
