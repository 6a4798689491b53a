{{/* Names: <release>-<service>, shortened to Kubernetes' 63 characters. */}}
{{- define "callisto.name" -}}
{{- printf "%s-%s" .root.Release.Name .service | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "callisto.labels" -}}
app.kubernetes.io/name: {{ .service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: callisto
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "callisto.selector" -}}
app.kubernetes.io/name: {{ .service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* CALLISTO_<SERVICE>_ */}}
{{- define "callisto.prefix" -}}
{{- printf "CALLISTO_%s_" (.service | upper | replace "-" "_") -}}
{{- end -}}

{{- define "callisto.image" -}}
{{- $tag := .tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .image $tag -}}
{{- end -}}

{{- define "callisto.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" .Release.Name) -}}
{{- end -}}

{{- define "callisto.natsUrl" -}}
{{- if .Values.embedded.enabled -}}
{{- printf "nats://%s-nats:4222" .Release.Name -}}
{{- else -}}
{{- .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{- define "callisto.redisUrl" -}}
{{- if .Values.embedded.enabled -}}
{{- printf "redis://%s-redis:6379/0" .Release.Name -}}
{{- else -}}
{{- .Values.redis.url -}}
{{- end -}}
{{- end -}}

{{- define "callisto.postgresHost" -}}
{{- if .Values.embedded.enabled -}}
{{- printf "%s-postgres" .Release.Name -}}
{{- else -}}
{{- .Values.postgres.host -}}
{{- end -}}
{{- end -}}

{{/*
The environment every Callisto service reads: mode, NATS (its own user's password), its service
account's secret, where it listens and is reached, its instance id (the pod's name), and Redis or
PostgreSQL when it uses them. .spec is the service's values (port, redis, postgres, env).
*/}}
{{- define "callisto.env" -}}
{{- $prefix := include "callisto.prefix" . -}}
{{- $secret := include "callisto.secretName" .root -}}
- name: {{ $prefix }}MODE
  value: {{ .root.Values.mode | quote }}
- name: {{ $prefix }}LOG_JSON
  value: "true"
- name: {{ $prefix }}NATS_URL
  value: {{ include "callisto.natsUrl" .root | quote }}
- name: {{ $prefix }}HTTP_HOST
  value: {{ .host | default "0.0.0.0" | quote }}
- name: {{ $prefix }}HTTP_PORT
  value: {{ .spec.port | quote }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: {{ $prefix }}INSTANCE_ID
  value: {{ if .instance }}{{ printf "$(POD_NAME)-%s" .instance | quote }}{{ else }}"$(POD_NAME)"{{ end }}
{{- if .publicUrl }}
- name: {{ $prefix }}PUBLIC_URL
  value: {{ .publicUrl | quote }}
{{- else }}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: {{ $prefix }}PUBLIC_URL
  value: {{ printf "http://$(POD_IP):%v" .spec.port | quote }}
{{- end }}
{{- if ne .root.Values.mode "development" }}
- name: {{ $prefix }}SERVICE_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .service }}-service-secret
- name: {{ $prefix }}NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .service }}-nats-password
      optional: true
{{- end }}
{{- if .spec.redis }}
- name: {{ $prefix }}REDIS_URL
  value: {{ include "callisto.redisUrl" .root | quote }}
{{- end }}
{{- if .spec.postgres }}
{{- if .root.Values.embedded.enabled }}
- name: POSTGRES_PASSWORD
  value: {{ .root.Values.embedded.postgres.password | quote }}
{{- else }}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: postgres-password
{{- end }}
- name: {{ $prefix }}DATABASE_URL
  value: {{ printf "postgresql://%s:$(POSTGRES_PASSWORD)@%s:%v/%s" .root.Values.postgres.user (include "callisto.postgresHost" .root) .root.Values.postgres.port .root.Values.postgres.database | quote }}
{{- end }}
{{- range $name, $value := .spec.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Probes on the runtime's /healthz (alive) and /readyz (dependencies; a standby is ready). */}}
{{- define "callisto.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: {{ .port }}}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

{{- define "callisto.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "callisto.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The capture spool rtpengine writes and recording reads. */}}
{{- define "callisto.spoolVolume" -}}
{{- if .Values.spool.existingClaim -}}
persistentVolumeClaim:
  claimName: {{ .Values.spool.existingClaim }}
{{- else if .Values.spool.hostPath -}}
hostPath:
  path: {{ .Values.spool.hostPath }}
  type: DirectoryOrCreate
{{- else -}}
persistentVolumeClaim:
  claimName: {{ .Release.Name }}-spool
{{- end -}}
{{- end -}}
