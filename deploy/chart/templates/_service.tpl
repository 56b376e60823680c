{{/*
The Services of one role: (dict "ctx" $ "role" role "rv" roleValues "purpose" text).
The headless one gives every pod a stable DNS name (followers reach the leader through it)
and lists pods before they are ready; the client one only routes to ready pods.
*/}}
{{- define "tile38.services" -}}
{{ include "tile38.headlessService" . }}
---
{{- include "tile38.clientService" (merge (dict "selector" (include "tile38.roleSelectorLabels" .)) .) }}
{{- end }}

{{/* The headless Service of a role's StatefulSet: (dict "ctx" $ "role" role). */}}
{{- define "tile38.headlessService" -}}
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
{{- end }}

{{/*
The client Service `<fullname>-<role>`: (dict "ctx" $ "role" role "rv" roleValues "purpose"
text "selector" yaml). With failover.enabled the selector names the label the elected
server sets on its pod instead of a fixed role.
*/}}
{{- define "tile38.clientService" -}}
{{- $fn := include "tile38.fullname" .ctx }}
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
    {{- .selector | trim | nindent 4 }}
  ports:
    {{- range (include "tile38.portList" .ctx | fromYamlArray) }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
{{- end }}
