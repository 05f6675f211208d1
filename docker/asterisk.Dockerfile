# Asterisk 22 from Debian, laid out exactly like the non-container root
# (pbx/asterisk/root.py): same suite, same packages, same mount points, and the
# same command pbx/asterisk/runner.py runs. All configuration comes from the
# control plane through the shared instance volume at /srv/pbx/instance.
FROM debian:sid-slim

# sid is the only suite with the 22 LTS line; the pin keeps an upload of a newer
# major from sneaking in, and the dpkg-query check fails the build if 22 is gone.
RUN printf 'Package: asterisk asterisk-config asterisk-modules\nPin: version 1:22.*\nPin-Priority: 1001\n' \
        > /etc/apt/preferences.d/asterisk-22 \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        asterisk asterisk-modules asterisk-core-sounds-en asterisk-core-sounds-en-wav \
    && dpkg-query -W -f '${Version}\n' asterisk | grep -q '^1:22\.' \
    && rm -rf /var/lib/apt/lists/*

# Mount points the compose file fills (root.MOUNT_POINTS).
RUN mkdir -p /srv/pbx/instance /srv/pbx/data /srv/pbx/dialplans /srv/pbx/audio /srv/pbx/sounds

# Foreground, no colours, configuration from the instance volume: runner.py's command.
CMD ["/usr/sbin/asterisk", "-f", "-n", "-C", "/srv/pbx/instance/etc/asterisk.conf"]
