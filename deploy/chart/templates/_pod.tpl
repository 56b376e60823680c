{{/*
The server pod template of one role: (dict "ctx" $ "role" "leader|follower|server" "rv"
roleValues). The follower differs from the leader in two places: it gets --follow <leader>
and the leaderauth secret. A failover member ("server", _failover.tpl) gets --elect instead
of --follow, the leaderauth secret, and the service-account token the elector uses. Both are ready on GET /healthz: 200 once the AOF is loaded (PING is
answered while loading, when data commands still fail with LOADING) and, on a follower,
only once caught up with the leader.
*/}}
{{- define "tile38.serverArgs" -}}
{{- $v := .ctx.Values }}
- -h
- {{ $v.server.bindAddress | quote }}
- -p
- {{ ternary $v.server.port $v.tls.port (not (not (include "tile38.plainPort" .ctx))) | quote }}
{{- if $v.tls.enabled }}
- --tls-port
- {{ $v.tls.port | quote }}
- --tls-cert-file
- /tls/tls.crt
- --tls-key-file
- /tls/tls.key
{{- if ne (toString $v.tls.authClients) "no" }}
- --tls-ca-cert-file
- /tls/ca.crt
- --tls-auth-clients
- {{ toString $v.tls.authClients | quote }}
{{- end }}
{{- with $v.tls.protocols }}
- --tls-protocols
- {{ . | quote }}
{{- end }}
{{- end }}
- -d
- /data
- --appendonly
- {{ ternary "yes" "no" $v.server.appendonly | quote }}
{{- if eq $v.server.logLevel "quiet" }}
- -q
{{- else if eq $v.server.logLevel "verbose" }}
- -v
{{- end }}
{{- if $v.metrics.enabled }}
- --metrics-addr
- {{ printf "%s:%d" $v.server.bindAddress (int $v.metrics.port) | quote }}
{{- if $v.metrics.tls }}
- --metrics-tls
- "yes"
{{- end }}
{{- end }}
{{- if eq .role "follower" }}
{{- include "tile38.followArgs" .ctx | trim | nindent 0 }}
{{- else if eq .role "server" }}
{{- include "tile38.electArgs" .ctx | trim | nindent 0 }}
{{- end }}
{{- range (concat $v.server.extraArgs .rv.extraArgs) }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{- define "tile38.serverEnv" -}}
{{- $v := .ctx.Values }}
{{- $config := $v.config }}
{{- if eq .role "server" }}
{{- include "tile38.electEnv" .ctx | trim | nindent 0 }}
{{- $config = include "tile38.electConfig" .ctx | fromYaml }}
{{- end }}
{{- if $v.auth.enabled }}
- name: TILE38_REQUIREPASS
  valueFrom:
    secretKeyRef:
      name: {{ include "tile38.secretName" .ctx }}
      key: {{ $v.auth.secretKeys.requirepass }}
{{- include "tile38.cliPasswordEnv" (dict "ctx" .ctx "leader" false) }}
{{- if ne .role "leader" }}
- name: TILE38_LEADERAUTH
  valueFrom:
    secretKeyRef:
      name: {{ include "tile38.secretName" .ctx }}
      key: {{ $v.auth.secretKeys.leaderauth }}
{{- end }}
{{- end }}
{{- range $k, $val := $config }}
{{- if ne (toString $val) "" }}
- name: {{ printf "TILE38_CONFIG_%s" ($k | upper | replace "-" "_") }}
  value: {{ toString $val | quote }}
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "tile38.serverProbes" -}}
{{- $v := .ctx.Values }}
{{- $tlsArgs := include "tile38.cliTlsArgs" (dict "ctx" .ctx "probe" true) | fromJsonArray }}
{{- $cli := concat (list "-p" (include "tile38.clientPort" .ctx)) $tlsArgs }}
{{- $ping := printf "exec:\n  command:\n%s" (include "tile38.cli" (dict "args" (append $cli "PING")) | indent 4) }}
{{- $healthz := "httpGet:\n  path: /healthz\n  port: tile38" }}
{{- if eq (toString $v.tls.authClients) "yes" }}
{{- /* mutual TLS: the kubelet has no client certificate to present */}}
{{- $healthz = printf "exec:\n  command:\n%s" (include "tile38.cli" (dict "args" (append $cli "HEALTHZ")) | indent 4) }}
{{- else if $v.tls.enabled }}
{{- $healthz = "httpGet:\n  path: /healthz\n  port: tile38-tls\n  scheme: HTTPS" }}
{{- end }}
{{- if .rv.startupProbe.enabled }}
startupProbe:
  {{- include "tile38.probe" (dict "p" .rv.startupProbe "handler" $ping) | trim | nindent 2 }}
{{- end }}
{{- if .rv.livenessProbe.enabled }}
livenessProbe:
  {{- include "tile38.probe" (dict "p" .rv.livenessProbe "handler" $ping) | trim | nindent 2 }}
{{- end }}
{{- if .rv.readinessProbe.enabled }}
readinessProbe:
  {{- include "tile38.probe" (dict "p" .rv.readinessProbe "handler" $healthz) | trim | nindent 2 }}
{{- end }}
{{- end }}

{{- define "tile38.podTemplate" -}}
{{- $v := .ctx.Values }}
{{- $fn := include "tile38.fullname" .ctx }}
metadata:
  labels:
    {{- include "tile38.roleLabels" . | trim | nindent 4 }}
    {{- with (merge (dict) .rv.podLabels $v.podLabels) }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- $conf := dict "config" $v.config "server" $v.server "metrics" $v.metrics.enabled }}
    {{- if $v.tls.enabled }}{{ $_ := set $conf "tls" (omit $v.tls "certManager") }}{{ end }}
    checksum/config: {{ toJson $conf | sha256sum }}
    {{- if and $v.auth.enabled (not $v.auth.existingSecret) }}
    checksum/secret: {{ include (print .ctx.Template.BasePath "/secret.yaml") .ctx | sha256sum }}
    {{- end }}
    {{- with (merge (dict) .rv.podAnnotations $v.podAnnotations) }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "tile38.serviceAccountName" .ctx }}
  automountServiceAccountToken: {{ eq .role "server" }}
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- include "tile38.scheduling" . | trim | nindent 2 }}
  {{- with $v.initContainers }}
  initContainers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: tile38
      image: {{ include "tile38.image" .ctx }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      command:
        - /usr/local/bin/tile38-server
      args:
        {{- include "tile38.serverArgs" . | trim | nindent 8 }}
      {{- with include "tile38.serverEnv" . | trim }}
      env:
        {{- . | nindent 8 }}
      {{- end }}
      ports:
        {{- range (include "tile38.portList" .ctx | fromYamlArray) }}
        - name: {{ .name }}
          containerPort: {{ .port }}
          protocol: TCP
        {{- end }}
        {{- if $v.metrics.enabled }}
        - name: metrics
          containerPort: {{ $v.metrics.port }}
          protocol: TCP
        {{- end }}
      {{- include "tile38.serverProbes" . | trim | nindent 6 }}
      resources:
        {{- toYaml (default $v.resources .rv.resources) | nindent 8 }}
      securityContext:
        {{- toYaml $v.containerSecurityContext | nindent 8 }}
      volumeMounts:
        - name: data
          mountPath: /data
        - name: tmp
          mountPath: /tmp
        {{- with include "tile38.tlsVolumeMounts" (dict "ctx" .ctx "leaderTls" (eq .role "follower")) | trim }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with $v.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with $v.sidecars }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- with include "tile38.tlsVolumes" (dict "ctx" .ctx "leaderTls" (eq .role "follower")) | trim }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- if not $v.persistence.enabled }}
    - name: data
      emptyDir: {}
    {{- else if and (eq .role "leader") $v.leader.existingClaim }}
    - name: data
      persistentVolumeClaim:
        claimName: {{ $v.leader.existingClaim }}
    {{- end }}
    {{- with $v.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* volumeClaimTemplates and the retention policy of a role's StatefulSet. */}}
{{- define "tile38.claims" -}}
{{- $v := .ctx.Values }}
{{- if and $v.persistence.enabled (not (and (eq .role "leader") $v.leader.existingClaim)) }}
persistentVolumeClaimRetentionPolicy:
  {{- toYaml $v.persistence.retentionPolicy | nindent 2 }}
volumeClaimTemplates:
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      name: data
      labels:
        {{- include "tile38.roleSelectorLabels" . | trim | nindent 8 }}
      {{- with $v.persistence.annotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      accessModes:
        {{- toYaml $v.persistence.accessModes | nindent 8 }}
      {{- with include "tile38.storageClass" $v.persistence.storageClass | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      resources:
        requests:
          storage: {{ $v.persistence.size | quote }}
{{- end }}
{{- end }}

{{- define "tile38.storageClass" -}}
{{- if eq . "-" }}
storageClassName: ""
{{- else if . }}
storageClassName: {{ . | quote }}
{{- end }}
{{- end }}

{{/* A complete StatefulSet of one role. */}}
{{- define "tile38.statefulSet" -}}
{{- $fn := include "tile38.fullname" .ctx }}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ $fn }}-{{ .role }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "tile38.roleLabels" . | trim | nindent 4 }}
  {{- with include "tile38.workloadWaivers" . | trim }}
  annotations:
    {{- . | nindent 4 }}
  {{- end }}
spec:
  replicas: {{ .replicas }}
  serviceName: {{ $fn }}-{{ .role }}-headless
  podManagementPolicy: {{ ternary "OrderedReady" "Parallel" (eq .role "leader") }}
  updateStrategy:
    type: RollingUpdate
  selector:
    matchLabels:
      {{- include "tile38.roleSelectorLabels" . | trim | nindent 6 }}
  template:
    {{- include "tile38.podTemplate" . | trim | nindent 4 }}
  {{- include "tile38.claims" . | trim | nindent 2 }}
{{- end }}
