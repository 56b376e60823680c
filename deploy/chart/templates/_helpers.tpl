{{/*
Names, labels and the pod template shared by the leader and follower StatefulSets.
*/}}

{{- define "tile38.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name. 40 characters at most: "<fullname>-follower-headless"
must stay a 63-character DNS label and "<fullname>-follower" at most 52 characters (the
StatefulSet controller appends a 10-character revision hash to it in a label).
*/}}
{{- define "tile38.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tile38.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tile38.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tile38.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tile38.labels" -}}
helm.sh/chart: {{ include "tile38.chart" . }}
{{ include "tile38.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tile38
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one role: (dict "ctx" $ "role" "leader|follower") */}}
{{- define "tile38.roleSelectorLabels" -}}
{{ include "tile38.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "tile38.roleLabels" -}}
{{ include "tile38.labels" .ctx }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/* The label that lets a pod through the NetworkPolicy when allowExternal is false. */}}
{{- define "tile38.clientLabel" -}}
{{ include "tile38.fullname" . }}-client: "true"
{{- end }}

{{- define "tile38.leaderEnabled" -}}
{{- if not .Values.follower.externalLeader.host }}true{{ end }}
{{- end }}

{{/* A fixed leader pod `<fullname>-leader-0` (not external, not elected). */}}
{{- define "tile38.fixedLeader" -}}
{{- if and (include "tile38.leaderEnabled" .) (not .Values.failover.enabled) }}true{{ end }}
{{- end }}

{{- define "tile38.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tile38.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tile38.secretName" -}}
{{- default (printf "%s-auth" (include "tile38.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{/* An image reference from (dict "repository" "tag" "digest"), tag defaulting to appVersion. */}}
{{- define "tile38.imageRef" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (toString (default .default .image.tag)) }}
{{- end }}
{{- end }}

{{- define "tile38.image" -}}
{{- include "tile38.imageRef" (dict "image" .Values.image "default" .Chart.AppVersion) }}
{{- end }}

{{/* host:port of the leader the followers follow. */}}
{{- define "tile38.leaderAddress" -}}
{{- with .Values.follower.externalLeader }}
{{- if .host }}
{{- printf "%s:%d" .host (int .port) }}
{{- end }}
{{- end }}
{{- if include "tile38.leaderEnabled" . }}
{{- $fn := include "tile38.fullname" . }}
{{- printf "%s-leader-0.%s-leader-headless.%s.svc.%s:%d" $fn $fn .Release.Namespace .Values.clusterDomain (int (include "tile38.clientPort" .)) }}
{{- end }}
{{- end }}

{{/* Host of the leader for clients inside the cluster (helm test). */}}
{{- define "tile38.leaderClientHost" -}}
{{- if include "tile38.leaderEnabled" . }}
{{- include "tile38.serviceHost" (dict "ctx" . "name" (printf "%s-leader" (include "tile38.fullname" .))) }}
{{- else }}
{{- .Values.follower.externalLeader.host }}
{{- end }}
{{- end }}

{{- define "tile38.leaderClientPort" -}}
{{- if include "tile38.leaderEnabled" . }}{{ include "tile38.clientPort" . }}{{ else }}{{ .Values.follower.externalLeader.port }}{{ end }}
{{- end }}

{{/*
Bytes of a Kubernetes memory/storage quantity ("2Gi", "512Mi", "1G", "1024"); 0 if empty.
*/}}
{{- define "tile38.bytes" -}}
{{- $q := toString . }}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "K" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 }}
{{- $num := regexFind "^[0-9.]+" $q }}
{{- $unit := trimPrefix $num $q }}
{{- if not $num }}0
{{- else if hasKey $units $unit }}{{ mulf (float64 $num) (index $units $unit) | int64 }}
{{- else }}{{ float64 $num | int64 }}
{{- end }}
{{- end }}

{{/* The command of a tile38-cli probe or test step: (dict "args" list) */}}
{{- define "tile38.cli" -}}
- /usr/local/bin/tile38-cli
{{- range .args }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* A probe from its tunables and a handler: (dict "p" probeValues "handler" yaml) */}}
{{- define "tile38.probe" -}}
{{ .handler }}
initialDelaySeconds: {{ .p.initialDelaySeconds }}
periodSeconds: {{ .p.periodSeconds }}
timeoutSeconds: {{ .p.timeoutSeconds }}
failureThreshold: {{ .p.failureThreshold }}
{{- with .p.successThreshold }}
successThreshold: {{ . }}
{{- end }}
{{- end }}

{{/*
The password of tile38-cli (probes, kubectl exec, helm test): (dict "ctx" $ "leader" bool).
Talking to an external leader takes its password, leaderauth.
*/}}
{{- define "tile38.cliPasswordEnv" -}}
{{- $auth := .ctx.Values.auth }}
{{- if $auth.enabled }}
- name: TILE38_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "tile38.secretName" .ctx }}
      key: {{ ternary $auth.secretKeys.leaderauth $auth.secretKeys.requirepass (and (default false .leader) (not (include "tile38.leaderEnabled" .ctx))) }}
{{- end }}
{{- end }}

{{/* Checkov reads these: the server takes its secrets from the environment only. */}}
{{- define "tile38.secretEnvWaiver" -}}
{{- if .Values.auth.enabled }}
checkov.io/skip1: CKV_K8S_35=tile38-server reads requirepass/leaderauth only from the environment (TILE38_REQUIREPASS, TILE38_LEADERAUTH); never from args or a ConfigMap
{{- end }}
{{- end }}

{{/* Pod-level scheduling: (dict "ctx" $ "role" role "rv" roleValues) */}}
{{- define "tile38.scheduling" -}}
{{- $v := .ctx.Values }}
{{- with (default $v.nodeSelector .rv.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $v.tolerations .rv.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .rv.affinity }}
affinity:
  {{- toYaml .rv.affinity | nindent 2 }}
{{- else if eq $v.podAntiAffinityPreset "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "tile38.selectorLabels" .ctx | trim | nindent 14 }}
{{- else if eq $v.podAntiAffinityPreset "hard" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "tile38.selectorLabels" .ctx | trim | nindent 12 }}
{{- end }}
{{- if .rv.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml .rv.topologySpreadConstraints | nindent 2 }}
{{- else if $v.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: {{ $v.topologySpread.maxSkew }}
    topologyKey: {{ $v.topologySpread.topologyKey }}
    whenUnsatisfiable: {{ $v.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "tile38.roleSelectorLabels" . | trim | nindent 8 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}
