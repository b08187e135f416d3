"""The commented configuration file `ranvier generate-config` writes.

Every option appears with its default; docs/CONFIGURATION.md says the same at length.
"""

from __future__ import annotations

_TEMPLATE = """\
# Ranvier homeserver configuration. Option names follow Synapse's where they exist.
# Relative paths are relative to the folder of this file.
# Every option is documented in docs/CONFIGURATION.md.

# The domain part of every user ID and room alias on this server. Cannot change later.
server_name: "{server_name}"

# The URL clients use to reach the client API, advertised in /.well-known/matrix/client.
# Empty: derived from server_name (https://<server_name>/).
public_baseurl: ""

# Where to listen. resources names: client, federation, keys, media, admin.
listeners:
  - port: 8008
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client, federation]

# Serve /.well-known/matrix/server pointing at this server (when it is reached on 443).
serve_server_wellknown: false

# Certificate and key for listeners with tls: true.
# tls_certificate_path: "{server_name}.tls.crt"
# tls_private_key_path: "{server_name}.tls.key"

# SQLite (default, embedded) or PostgreSQL:
#   database:
#     name: psycopg2
#     args: {{user: ranvier, password: secret, host: localhost, port: 5432,
#             database: ranvier, cp_min: 5, cp_max: 10}}
database:
  name: sqlite3
  args:
    database: homeserver.db

# The ed25519 key this server signs events and federation requests with.
signing_key_path: "{signing_key_path}"

# Room version of new rooms unless the client asks for another one.
default_room_version: "12"

# Open registration to anyone. Needs enable_registration_without_verification too,
# since this server does not verify email addresses or phone numbers.
enable_registration: false
enable_registration_without_verification: false
# Require a registration token (created with the admin API) to register.
registration_requires_token: false
# Lets `ranvier register-user` and /_synapse/admin/v1/register create accounts.
registration_shared_secret: "{registration_shared_secret}"
allow_guest_access: false

# Password hashing: argon2id. Raise time_cost/memory_cost (KiB) for slower hashing.
password_config:
  enabled: true
  argon2:
    time_cost: 3
    memory_cost: 65536
    parallelism: 1

# Access tokens issued with a refresh token expire after this long; refresh tokens
# after refresh_token_lifetime (unset: they last until used).
refreshable_access_token_lifetime: 5m
# refresh_token_lifetime: 30d

# Unfinished user-interactive authentication sessions expire after this long.
ui_auth:
  session_timeout: 15m

# Rate limits: a bucket of burst_count actions refilling at per_second.
rc_message:
  per_second: 0.2
  burst_count: 10
rc_registration:
  per_second: 0.17
  burst_count: 3
rc_login:
  address: {{per_second: 0.003, burst_count: 5}}
  account: {{per_second: 0.003, burst_count: 5}}
  failed_attempts: {{per_second: 0.17, burst_count: 3}}

# Largest JSON request body, and largest media upload.
max_request_size: 10M
max_upload_size: 50M
media_store_path: media_store

# Application service registration files.
app_service_config_files: []

# Who may publish which rooms to the public room directory (first match wins).
room_list_publication_rules:
  - {{user_id: "*", alias: "*", room_id: "*", action: allow}}

user_directory:
  enabled: true
  # Search all local users, not only those sharing a room or in public rooms.
  search_all_users: false

# Track users' presence (online, unavailable, offline) and share it with those who
# share a room with them.
presence:
  enabled: true

# TURN servers for VoIP calls, handed to clients by /voip/turnServer. With
# turn_shared_secret, clients get credentials valid for turn_user_lifetime;
# otherwise the fixed turn_username/turn_password. No turn_uris: no TURN.
turn_uris: []
# turn_shared_secret: "..."
# turn_username: "..."
# turn_password: "..."
turn_user_lifetime: 1h
turn_allow_guests: true

log_level: INFO
report_stats: false
"""


def render_config_template(
    server_name: str, signing_key_path: str, registration_shared_secret: str
) -> str:
    return _TEMPLATE.format(
        server_name=server_name,
        signing_key_path=signing_key_path,
        registration_shared_secret=registration_shared_secret,
    )
