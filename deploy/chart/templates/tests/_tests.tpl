{{/*
helm test pods run tile38-cli from the server image, one container per step (the image has
no shell). Init containers run first and in order, so "write, then read" is two steps.
*/}}
{{- define "tile38.testObjectId" -}}
{{ .Release.Name }}-r{{ .Release.Revision }}
{{- end }}

{{/* One step: (dict "ctx" $ "name" n "host" h "port" p "args" list ["leader" true]) */}}
{{- define "tile38.testStep" -}}
{{- $v := .ctx.Values }}
- name: {{ .name }}
  image: {{ include "tile38.image" .ctx }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- $external := and .leader (not (include "tile38.leaderEnabled" .ctx)) }}
  {{- $tls := include "tile38.cliTlsArgs" (dict "ctx" .ctx "external" $external) | fromJsonArray }}
  command:
    {{- include "tile38.cli" (dict "args" (concat (list "-h" .host "-p" (toString .port)) $tls .args)) | trim | nindent 4 }}
  {{- with include "tile38.cliPasswordEnv" (dict "ctx" .ctx "leader" .leader) | trim }}
  env:
    {{- . | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml $v.tests.resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.containerSecurityContext | nindent 4 }}
  {{- with include "tile38.tlsVolumeMounts" (dict "ctx" .ctx "leaderTls" true) | trim }}
  volumeMounts:
    {{- . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* The pod spec of a test: (dict "ctx" $ "init" steps "main" steps) */}}
{{- define "tile38.testPodSpec" -}}
{{- $v := .ctx.Values }}
restartPolicy: Never
serviceAccountName: {{ include "tile38.serviceAccountName" .ctx }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .init }}
initContainers:
  {{- range . }}
  {{- include "tile38.testStep" (merge (dict "ctx" $.ctx) .) | trim | nindent 2 }}
  {{- end }}
{{- end }}
containers:
  {{- range .main }}
  {{- include "tile38.testStep" (merge (dict "ctx" $.ctx) .) | trim | nindent 2 }}
  {{- end }}
{{- with include "tile38.tlsVolumes" (dict "ctx" .ctx "leaderTls" true) | trim }}
volumes:
  {{- . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "tile38.testMeta" -}}
metadata:
  name: {{ include "tile38.fullname" .ctx }}-test-{{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "tile38.jobLabels" (dict "ctx" .ctx "component" "test") | trim | nindent 4 }}
    {{- include "tile38.clientLabel" .ctx | trim | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
    {{- with include "tile38.secretEnvWaiver" .ctx | trim }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end }}
