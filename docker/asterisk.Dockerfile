# Asterisk 22 from Debian, laid out exactly like the non-container root
# (pbx/asterisk/root.py): same suite, same packages, same mount points, and the
# same command pbx/asterisk/runner.py runs. All configuration comes from the
# control plane through the shared instance volume at /srv/pbx/instance; the
# dialplans and shipped prompts of this project version are part of the image.
FROM debian:sid-slim

# One uid for Asterisk and the control plane (docker/pbx.Dockerfile): they share the
# instance volume, whose generated files hold secrets and are 0600. Made before the
# package, whose postinst keeps an existing `asterisk` user.
ARG PBX_UID=10001
RUN groupadd --gid "$PBX_UID" asterisk \
    && useradd --uid "$PBX_UID" --gid "$PBX_UID" --home-dir /var/lib/asterisk --no-create-home \
        --shell /usr/sbin/nologin asterisk

# sid is the only suite with the 22 LTS line; the pin keeps an upload of a newer
# major from sneaking in, and the dpkg-query check fails the build if 22 is gone.
RUN printf 'Package: asterisk asterisk-config asterisk-modules\nPin: version 1:22.*\nPin-Priority: 1001\n' \
        > /etc/apt/preferences.d/asterisk-22 \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        asterisk asterisk-modules asterisk-core-sounds-en asterisk-core-sounds-en-wav \
    && dpkg-query -W -f '${Version}\n' asterisk | grep -q '^1:22\.' \
    && rm -rf /var/lib/apt/lists/*

# Mount points the compose file fills (root.MOUNT_POINTS), owned by the shared uid so
# fresh named volumes start out writable by it.
RUN mkdir -p /srv/pbx/instance /srv/pbx/data /srv/pbx/dialplans /srv/pbx/audio /srv/pbx/sounds \
    && chown asterisk:asterisk /srv/pbx/instance /srv/pbx/data /srv/pbx/audio

COPY dialplans/ /srv/pbx/dialplans/
COPY pbx/asterisk/sounds/ /srv/pbx/sounds/
COPY docker/sip-ping /usr/local/bin/sip-ping

USER asterisk
# Foreground, no colours, configuration from the instance volume: runner.py's command.
# umask 077: its recordings, voicemail, astdb and logs are owner-only (README "Security").
CMD ["/bin/sh", "-c", "umask 077 && exec /usr/sbin/asterisk -f -n -C /srv/pbx/instance/etc/asterisk.conf"]
