{{/*
The Services of one role: (dict "ctx" $ "role" role "rv" roleValues "purpose" text).
The headless one gives every pod a stable DNS name (followers reach the leader through it)
and lists pods before they are ready; the client one only routes to ready pods.
*/}}
{{- define "tile38.services" -}}
{{- $v := .ctx.Values }}
{{- $fn := include "tile38.fullname" .ctx }}
apiVersion: v1
kind: Service
metadata:
  name: {{ $fn }}-{{ .role }}-headless
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "tile38.roleLabels" . | trim | nindent 4 }}
spec:
  type: ClusterIP
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "tile38.roleSelectorLabels" . | trim | nindent 4 }}
  ports:
    {{- range (include "tile38.portList" .ctx | fromYamlArray) }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fn }}-{{ .role }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "tile38.roleLabels" . | trim | nindent 4 }}
    {{- with .rv.service.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    tile38.io/access: {{ .purpose }}
    {{- with .rv.service.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  type: {{ .rv.service.type }}
  {{- if and (eq .rv.service.type "LoadBalancer") .rv.service.loadBalancerSourceRanges }}
  loadBalancerSourceRanges:
    {{- toYaml .rv.service.loadBalancerSourceRanges | nindent 4 }}
  {{- end }}
  selector:
    {{- include "tile38.roleSelectorLabels" . | trim | nindent 4 }}
  ports:
    {{- range (include "tile38.portList" .ctx | fromYamlArray) }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
{{- end }}
