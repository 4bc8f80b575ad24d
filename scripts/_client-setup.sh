# Sourced by scripts/run: client_setup ENDPOINT BIN prints where Cinder's volume API is and how
# to point curl, the `openstack` and the `cinder` clients at it, one shell command a line
# after the first (the tests run them).  The API runs the noauth middleware: the token is
# `<user>:<project>`, nothing is checked.  The clients differ: `openstack` sends a fixed token
# with keystoneauth's admin_token plugin (its `noauth` is cinderclient's plugin, which
# openstacksdk cannot use), `cinder` builds the token itself with its own noauth plugin.
client_setup() {
    local endpoint="$1" bin="$2"
    cat <<SETUP
Cinder's volume API: $endpoint (noauth: the token is <user>:<project>, nothing is checked)
curl -s -H 'X-Auth-Token: admin:admin' $endpoint/volumes
export OS_AUTH_TYPE=admin_token OS_ENDPOINT=$endpoint OS_TOKEN=admin:admin OS_VOLUME_API_VERSION=3
$bin/openstack volume list
OS_AUTH_TYPE=noauth CINDER_ENDPOINT=$endpoint OS_USER_ID=admin OS_PROJECT_ID=admin $bin/cinder list
SETUP
}
