"""Debian's python3-consul against the micromesh agent's /v1/kv: put, get,
recurse, keys, delete, cas (refused), and a blocking get that a write on
another node wakes. One JSON line per step. Argv: host port."""
import json
import sys
import time

import consul

c = consul.Consul(host=sys.argv[1], port=int(sys.argv[2]))


def say(**kw):
    print(json.dumps(kw), flush=True)


say(step='put', ok=c.kv.put('app/greeting', 'hello', flags=7))
c.kv.put('app/db/host', 'db.local')
c.kv.put('app/db/port', '5432')
index, e = c.kv.get('app/greeting')
say(step='get', index=index, value=e['Value'].decode(), flags=e['Flags'], modify=e['ModifyIndex'])
_, entries = c.kv.get('app/', recurse=True)
say(step='recurse', keys=[x['Key'] for x in entries])
_, keys = c.kv.get('app/', keys=True, separator='/')
say(step='keys', keys=keys)
_, missing = c.kv.get('nope')
say(step='missing', value=missing)
try:
    c.kv.put('app/greeting', 'x', cas=0)
    say(step='cas', refused=False)
except Exception as err:  # python-consul raises on a non-2xx answer
    say(step='cas', refused=True, error=str(err)[:300])
say(step='delete', ok=c.kv.delete('app/db', recurse=True))
_, entries = c.kv.get('app/', recurse=True)
say(step='after-delete', keys=[x['Key'] for x in entries])
index, _ = c.kv.get('app/greeting')
say(step='blocking', index=index)
start = time.time()
index2, e = c.kv.get('app/greeting', index=index, wait='20s')
say(step='woke', index=index2, value=e['Value'].decode(), waited_ms=(time.time() - start) * 1000, returned_at_ms=time.time() * 1000)
