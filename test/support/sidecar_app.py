#!/usr/bin/env python3
"""A small app in another language behind `micromesh sidecar`, for the sidecar tests.

Standard library only. Two modes:

  sidecar_app.py --sidecar HOST:PORT [--port P]
      Serves HTTP on 127.0.0.1:P (0 picks a port) and prints {"app": "127.0.0.1:PORT"}:
        GET  /.well-known/micromesh  its endpoints (the sidecar's describe document; Foo.Bar with JSON Schemas)
        GET  /health                 200
        POST /Foo/Bar                {name} -> calls the greeter THROUGH THE SIDECAR
                                     (POST http://SIDECAR/greeter/hello) -> {"reply": msg, "via": "python"}
        POST /Foo/Headers            the request headers it got
        POST /Foo/Status             {status} -> answers that status with a text body
        POST /Foo/Custom             409 with its own {id, code, detail, status}
        POST /Foo/Garbage            200 with a body that is not JSON
        POST /Foo/Fail               500
        POST /Foo/Hang               never answers (until the caller gives up)
        POST /Foo/Big                200 with a 2 MiB JSON body

  sidecar_app.py --sidecar HOST:PORT --subscribe TOPIC [--queue Q]
      Reads GET http://SIDECAR/broker?topic=TOPIC as Server-Sent Events and prints
      {"subscribed": TOPIC} once the stream is open, then each message as one JSON line.
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENDPOINTS = ['Bar', 'Headers', 'Status', 'Custom', 'Garbage', 'Fail', 'Hang', 'Big']


def emit(value):
    print(json.dumps(value), flush=True)


class App(BaseHTTPRequestHandler):
    sidecar = ''
    protocol_version = 'HTTP/1.1'
    # Headers and body go out in two writes: without this, Nagle holds the body for the peer's delayed ACK (40 ms).
    disable_nagle_algorithm = True

    def log_message(self, *_args):
        pass

    def answer(self, status, body, content_type='application/json'):
        data = body if isinstance(body, bytes) else (json.dumps(body) if content_type == 'application/json' else body).encode()
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == '/.well-known/micromesh':
            eps = [{'name': f'Foo.{m}', 'metadata': {'lang': 'python'}} for m in ENDPOINTS]
            # Foo.Bar declares its request: the sidecar checks it before forwarding.
            eps[0]['request'] = {'type': 'object', 'properties': {'name': {'type': 'string'}}, 'required': ['name']}
            eps[0]['response'] = {'type': 'object', 'properties': {'reply': {'type': 'string'}, 'via': {'type': 'string'}}}
            self.answer(200, {'endpoints': eps})
        elif self.path == '/health':
            self.answer(200, {'status': 'ok'})
        else:
            self.answer(404, 'not found', 'text/plain')

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        req = json.loads(raw) if raw else {}
        route = self.path.split('?')[0]
        if route == '/Foo/Bar':
            try:
                self.answer(200, {'reply': greet(self.sidecar, req.get('name', '')), 'via': 'python'})
            except urllib.error.HTTPError as e:
                # The sidecar's error body is {id, code, detail, status}: passed back, the caller sees the code.
                self.answer(e.code, e.read())
        elif route == '/Foo/Headers':
            self.answer(200, {'headers': {k.lower(): v for k, v in self.headers.items()}})
        elif route == '/Foo/Status':
            self.answer(int(req['status']), f'status {req["status"]} on purpose', 'text/plain')
        elif route == '/Foo/Custom':
            self.answer(409, {'id': 'python-app', 'code': 'OUT_OF_STOCK', 'detail': 'no more widgets', 'status': 409})
        elif route == '/Foo/Garbage':
            self.answer(200, 'this is {not json', 'text/plain')
        elif route == '/Foo/Fail':
            self.answer(500, 'boom: the app failed on purpose', 'text/plain')
        elif route == '/Foo/Hang':
            time.sleep(120)
        elif route == '/Foo/Big':
            self.answer(200, {'pad': 'x' * (2 << 20)})
        else:
            self.answer(404, 'no such endpoint', 'text/plain')


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A caller that gave up (a hung request cancelled) is expected here.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def greet(sidecar, name):
    """The greeter, through the sidecar's rpc handler (Go Micro's path rules)."""
    body = json.dumps({'name': name}).encode()
    req = urllib.request.Request(f'http://{sidecar}/greeter/hello', data=body, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())['msg']


def subscribe(sidecar, topic, queue):
    query = urllib.parse.urlencode({'topic': topic, **({'queue': queue} if queue else {})})
    while True:
        try:
            res = urllib.request.urlopen(urllib.request.Request(f'http://{sidecar}/broker?{query}', headers={'Accept': 'text/event-stream'}))
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)  # the sidecar is not up yet
    emit({'subscribed': topic})
    event, data = 'message', []
    for line in res:
        line = line.decode().rstrip('\r\n')
        if line == '':
            if data and event == 'message':
                emit(json.loads('\n'.join(data)))
            event, data = 'message', []
        elif line.startswith('event:'):
            event = line[6:].strip()
        elif line.startswith('data:'):
            data.append(line[5:].lstrip())


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--sidecar', required=True)
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--subscribe')
    p.add_argument('--queue')
    a = p.parse_args()
    if a.subscribe:
        subscribe(a.sidecar, a.subscribe, a.queue)
        return
    App.sidecar = a.sidecar
    server = Server(('127.0.0.1', a.port), App)
    emit({'app': f'127.0.0.1:{server.server_address[1]}'})
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    sys.exit(main())
