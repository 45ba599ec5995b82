#!/bin/sh
# The registry tests' fixtures (test_registry.c): Debian's docker-registry (distribution 2.8)
# on 127.0.0.1 with a free port and everything under DIR, test images built with umoci and
# pushed with skopeo, a test CA, htpasswd users and a token server (python3-jwt).
#   registry.sh image DIR              OCI layout DIR/u: tags latest, arm, big (+8 MiB layer)
#   registry.sh index DIR              tags multi (amd64 + arm64) and armonly (arm64 + s390x)
#   registry.sh bigconfig DIR          tag bigcfg: latest with a config of 17 MiB
#   registry.sh pushraw DIR TAG REPO   the registry API itself (plain HTTP), for what skopeo
#                                      refuses to push (a config over its 4 MiB)
#   registry.sh fake DIR               not a registry: a python server answering /v2/ and, for
#                                      any manifest, 5 MiB (what docker-registry never serves:
#                                      it refuses manifests over 4 MiB), but 403 with the
#                                      registry's DENIED error under /v2/it/denied/ (what a
#                                      registry answers a token without the pull scope, or an
#                                      authorizing proxy a user it refuses); prints the port
#   registry.sh start DIR MODE         MODE plain|tls|mtls|htpasswd|token; prints the port
#                                      (mtls: TLS asking for a client certificate of the test
#                                      CA, whose pair is in certs.d as client.cert/client.key)
#   registry.sh push DIR TAG REF [FMT] skopeo copy (--all) oci:DIR/u:TAG → docker://PORT/REF;
#                                      FMT v2s2: docker schema 2 manifests and lists;
#                                      docker-archive, oci-archive: through such an archive
#   registry.sh restart DIR            the registry again, same config, port and storage
#   registry.sh corrupt DIR TAG        flip a byte of TAG's top layer on the registry's disk;
#                                      prints the layer's hex
#   registry.sh stop DIR               the registry and token server started for DIR
# Users: tester/secret. Prints "missing: WHAT" when a tool is absent.
set -eu
cmd=$1
D=$2
cd "$D"

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing: $1"; exit 3; }; }

# Runs CMD... until it succeeds, 10 s at most; false when it never does.
wait_up() {
    i=0
    until "$@" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || return 1
        sleep 0.1
    done
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case $cmd in
image)
    need umoci; need skopeo; need busybox
    mkdir -p rootfs/bin extra arm big
    cp /bin/busybox rootfs/bin/busybox
    for a in sh true cat ls; do ln -sf busybox rootfs/bin/$a; done
    echo hi from registry > extra/hello
    echo hi from arm > arm/hello
    head -c 8388608 /dev/urandom > big/blob
    umoci init --layout u
    umoci new --image u:latest
    umoci unpack --image u:latest ub >/dev/null
    cp -a rootfs/. ub/rootfs/
    umoci repack --image u:latest ub
    rm -rf ub
    umoci config --image u:latest --config.cmd /bin/true
    umoci tag --image u:latest base
    umoci insert --image u:latest extra /
    umoci insert --image u:base --tag arm arm /
    umoci insert --image u:latest --tag big big /
    echo built
    ;;
index)
    /usr/bin/python3 - <<'EOF'
import hashlib, json, os
idx = json.load(open("u/index.json"))
by = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
def plat(m, arch):
    d = {k: m[k] for k in ("mediaType", "digest", "size")}
    d["platform"] = {"os": "linux", "architecture": arch}
    return d
def put(name, entries):
    blob = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": entries}).encode()
    h = hashlib.sha256(blob).hexdigest()
    open("u/blobs/sha256/" + h, "wb").write(blob)
    idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
                             "digest": "sha256:" + h, "size": len(blob),
                             "annotations": {"org.opencontainers.image.ref.name": name}})
put("multi", [plat(by["arm"], "arm64"), plat(by["latest"], "amd64")])
put("armonly", [plat(by["arm"], "arm64"), plat(by["latest"], "s390x")])
json.dump(idx, open("u/index.json", "w"))
print("indexed")
EOF
    ;;
bigconfig)
    /usr/bin/python3 - <<'EOF'
import hashlib, json
idx = json.load(open("u/index.json"))
m = [m for m in idx["manifests"]
     if m["annotations"]["org.opencontainers.image.ref.name"] == "latest"][0]
man = json.load(open("u/blobs/sha256/" + m["digest"][7:]))
cfg = json.load(open("u/blobs/sha256/" + man["config"]["digest"][7:]))
cfg.setdefault("config", {}).setdefault("Labels", {})["padding"] = "x" * (17 << 20)
def put(obj):
    b = json.dumps(obj).encode()
    h = hashlib.sha256(b).hexdigest()
    open("u/blobs/sha256/" + h, "wb").write(b)
    return h, len(b)
h, n = put(cfg)
man["config"]["digest"], man["config"]["size"] = "sha256:" + h, n
h, n = put(man)
idx["manifests"].append({"mediaType": m["mediaType"], "digest": "sha256:" + h, "size": n,
                         "annotations": {"org.opencontainers.image.ref.name": "bigcfg"}})
json.dump(idx, open("u/index.json", "w"))
print("bigconfig")
EOF
    ;;
pushraw)
    /usr/bin/python3 - "$(cat port)" "$3" "$4" <<'EOF'
import json, sys, urllib.request
port, tag, repo = sys.argv[1:]
base = "http://127.0.0.1:%s/v2/%s" % (port, repo)
idx = json.load(open("u/index.json"))
m = [m for m in idx["manifests"]
     if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
body = open("u/blobs/sha256/" + m["digest"][7:], "rb").read()
man = json.loads(body)
for d in [man["config"]] + man["layers"]:
    r = urllib.request.urlopen(urllib.request.Request(base + "/blobs/uploads/", method="POST"))
    loc = r.headers["Location"]
    url = loc + ("&" if "?" in loc else "?") + "digest=" + d["digest"]
    if not url.startswith("http"):
        url = "http://127.0.0.1:%s%s" % (port, url)
    data = open("u/blobs/sha256/" + d["digest"][7:], "rb").read()
    urllib.request.urlopen(urllib.request.Request(url, data=data, method="PUT",
                           headers={"Content-Type": "application/octet-stream"}))
urllib.request.urlopen(urllib.request.Request(base + "/manifests/latest", data=body, method="PUT",
                       headers={"Content-Type": m["mediaType"]}))
print("pushed")
EOF
    ;;
fake)
    port=$(free_port)
    echo "$port" > port
    cat > fake.py <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/v2/it/denied/"):
            body = b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = b"{}" if self.path == "/v2/" else b'{"schemaVersion":2,"pad":"' + b"x" * (5 << 20) + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
    setsid /usr/bin/python3 fake.py "$port" > fake.out 2>&1 < /dev/null &
    echo $! > reg.pid
    wait_up curl -s -o /dev/null "http://127.0.0.1:$port/v2/" ||
        { echo "fake registry did not start"; exit 1; }
    echo "$port"
    ;;
start)
    need docker-registry
    mode=$3
    port=$(free_port)
    echo "$port" > port
    auth=""
    proto=http
    case $mode in
    tls | mtls)
        need openssl
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
            -subj /CN=berth-test-ca 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 \
            2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\n' > srv.ext
        openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt \
            -days 2 -extfile srv.ext 2>/dev/null
        mkdir -p "certs.d/127.0.0.1:$port"
        cp ca.crt "certs.d/127.0.0.1:$port/ca.crt"
        proto=https
        tls="  tls:
    certificate: $D/srv.crt
    key: $D/srv.key"
        if [ "$mode" = mtls ]; then
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
                -subj /CN=berth-client 2>/dev/null
            openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                -out client.cert -days 2 2>/dev/null
            cp client.cert client.key "certs.d/127.0.0.1:$port/"
            tls="$tls
    clientcas:
      - $D/ca.crt"
        fi
        ;;
    htpasswd)
        need htpasswd
        htpasswd -Bbc htpasswd tester secret 2>/dev/null
        auth="auth:
  htpasswd:
    realm: berth-test
    path: $D/htpasswd"
        ;;
    token)
        /usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null || { echo "missing: python3-jwt"; exit 3; }
        need openssl
        openssl req -x509 -newkey rsa:2048 -nodes -keyout tok.key -out tok.crt -days 2 \
            -subj /CN=berth-test-token 2>/dev/null
        tport=$(free_port)
        cat > tok.py <<'EOF'
import base64, http.server, json, sys, time, urllib.parse, jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
key = open("tok.key").read()
der = x509.load_pem_x509_certificate(open("tok.crt", "rb").read()).public_bytes(Encoding.DER)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        a = self.headers.get("Authorization", "")
        user = None
        if a.startswith("Basic "):
            u, _, p = base64.b64decode(a[6:]).decode().partition(":")
            if (u, p) != ("tester", "secret"):
                self.send_response(401); self.end_headers(); return
            user = u
        if user is None:
            self.send_response(401); self.end_headers(); return
        access = []
        for s in q.get("scope", []):
            for one in s.split(" "):
                t, name, actions = one.split(":")
                access.append({"type": t, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {"iss": "berth-test", "sub": user, "aud": q.get("service", [""])[0],
                  "exp": now + 600, "nbf": now - 10, "iat": now, "jti": str(now), "access": access}
        tok = jwt.encode(claims, key, algorithm="RS256",
                         headers={"x5c": [base64.b64encode(der).decode()]})
        body = json.dumps({"token": tok, "access_token": tok}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)
        open("tok.log", "a").write(self.path + "\n")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
        setsid /usr/bin/python3 tok.py "$tport" > tok.out 2>&1 < /dev/null &
        echo $! > tok.pid
        wait_up curl -s -o /dev/null "http://127.0.0.1:$tport/token" ||
            { echo "token server did not start"; exit 1; }
        auth="auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: berth-test-registry
    issuer: berth-test
    rootcertbundle: $D/tok.crt"
        ;;
    esac
    cat > reg.yml <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $D/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
${tls:-}
$auth
EOF
    setsid docker-registry serve reg.yml >> reg.log 2>&1 < /dev/null &
    echo $! > reg.pid
    wait_up /usr/bin/python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' \
        "$port" || { echo "registry did not start"; cat reg.log; exit 1; }
    echo "$port"
    ;;
push)
    tag=$3 ref=$4 how=${5:-}
    port=$(cat port)
    set -- --dest-tls-verify=false
    [ -d "certs.d/127.0.0.1:$port" ] && set -- --dest-cert-dir "certs.d/127.0.0.1:$port"
    [ -f htpasswd ] || [ -f tok.key ] && set -- "$@" --dest-creds tester:secret
    case $how in
    v2s2) set -- "$@" --format v2s2 ;;
    docker-archive | oci-archive)
        rm -f "arc-$tag.tar"
        skopeo copy -q "oci:u:$tag" "$how:arc-$tag.tar:$ref"
        skopeo copy -q "$@" "$how:arc-$tag.tar" "docker://127.0.0.1:$port/$ref"
        echo pushed
        exit 0
        ;;
    esac
    skopeo copy -q --all "$@" "oci:u:$tag" "docker://127.0.0.1:$port/$ref"
    echo pushed
    ;;
restart)
    setsid docker-registry serve reg.yml >> reg.log 2>&1 < /dev/null &
    echo $! > reg.pid
    port=$(cat port)
    wait_up curl -s -o /dev/null "http://127.0.0.1:$port/v2/" ||
        { echo "registry did not restart"; exit 1; }
    echo restarted
    ;;
corrupt)
    /usr/bin/python3 - "$3" <<'EOF'
import json, sys
idx = json.load(open("u/index.json"))
m = [m for m in idx["manifests"]
     if m["annotations"]["org.opencontainers.image.ref.name"] == sys.argv[1]][0]
man = json.load(open("u/blobs/sha256/" + m["digest"][7:]))
h = man["layers"][-1]["digest"][7:]
path = "storage/docker/registry/v2/blobs/sha256/%s/%s/data" % (h[:2], h)
data = bytearray(open(path, "rb").read())
data[len(data) // 2] ^= 0xff
open(path, "wb").write(data)
print(h)
EOF
    ;;
stop)
    for f in reg.pid tok.pid; do
        [ -f $f ] && kill -9 "$(cat $f)" 2>/dev/null || true
        rm -f $f
    done
    ;;
esac
