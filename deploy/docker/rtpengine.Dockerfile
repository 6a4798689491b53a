# syntax=docker/dockerfile:1
# rtpengine from Debian's rtpengine-daemon, in userspace (no kernel module): the media relay
# call-manager drives over its NG protocol, recording in pcap (the recording service converts).
#   docker build -f deploy/docker/rtpengine.Dockerfile -t callisto/rtpengine:10.5 deploy/docker
# Media needs the host's network (thousands of UDP ports, the address phones and trunks see):
# run it with --network host and set RTPENGINE_INTERFACE to that address.
ARG DEBIAN_IMAGE=debian:12.8-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends rtpengine-daemon \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 callisto \
    && useradd --system --uid 10001 --gid callisto --no-create-home callisto \
    && install -d -o 10001 -g 10001 /var/spool/rtpengine
ENV RTPENGINE_INTERFACE=127.0.0.1 RTPENGINE_NG=127.0.0.1:2223 RTPENGINE_PORT_MIN=40000 \
    RTPENGINE_PORT_MAX=44999 RTPENGINE_DTMF_DEST=127.0.0.1:2224
USER 10001:10001
VOLUME ["/var/spool/rtpengine"]
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["sh", "-c", "printf 'hc d7:command4:pinge' | timeout 2 bash -c 'exec 3<>/dev/udp/${RTPENGINE_NG%:*}/${RTPENGINE_NG#*:}; cat >&3; head -c 40 <&3' | grep -q pong"]
# the flags devkit's RtpEngine gives it for `callisto up`, the addresses from the environment
CMD ["sh", "-c", "exec rtpengine --config-file=none --table=-1 --interface=\"$RTPENGINE_INTERFACE\" --listen-ng=\"$RTPENGINE_NG\" --foreground --log-stderr --log-level=6 --port-min=\"$RTPENGINE_PORT_MIN\" --port-max=\"$RTPENGINE_PORT_MAX\" --delete-delay=0 --recording-dir=/var/spool/rtpengine --recording-method=pcap --dtmf-log-dest=\"$RTPENGINE_DTMF_DEST\" --num-threads=2"]
