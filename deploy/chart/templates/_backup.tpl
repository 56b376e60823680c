{{/* Labels of Job and test pods: not the server's selector labels (no app.kubernetes.io/name). */}}
{{- define "tile38.jobLabels" -}}
helm.sh/chart: {{ include "tile38.chart" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: tile38
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tile38.backupCopyScript" -}}
set -eu
src=/source/appendonly.aof
[ -f "$src" ] || { echo "backup: no AOF at $src" >&2; exit 1; }
name="appendonly-$(date -u +%Y%m%dT%H%M%SZ).aof"
if [ "$COMPRESS" = true ]; then
  name="$name.gz"
  gzip -c "$src" > "/backup/.$name.tmp"
else
  cp "$src" "/backup/.$name.tmp"
fi
mv "/backup/.$name.tmp" "/backup/$name"
echo "$name" > /backup/LATEST
ls -1 /backup | grep '^appendonly-.*\.aof' | sort -r | tail -n "+$((KEEP + 1))" | while read -r old; do
  rm -f "/backup/$old"
done
echo "backup: /backup/$name, $(wc -c < "/backup/$name") bytes"
{{- end }}

{{- define "tile38.backupUploadScript" -}}
set -eu
# Credentials come as files (the Secret volume), or from the pod's identity when absent.
for key in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; do
  if [ -f "/s3-credentials/$key" ]; then export "$key=$(cat "/s3-credentials/$key")"; fi
done
name="$(cat /backup/LATEST)"
aws ${S3_ENDPOINT:+--endpoint-url "$S3_ENDPOINT"} s3 cp "/backup/$name" "s3://$S3_BUCKET/$S3_PREFIX/$name"
echo "backup: uploaded s3://$S3_BUCKET/$S3_PREFIX/$name"
{{- end }}

{{/* One backup container: (dict "ctx" $ "c" (dict "name" "image" "script")) */}}
{{- define "tile38.backupContainer" -}}
{{- $b := .ctx.Values.backup }}
- name: {{ .c.name }}
  image: {{ include "tile38.imageRef" (dict "image" .c.image "default" "latest") }}
  imagePullPolicy: {{ .c.image.pullPolicy }}
  command:
    - /bin/sh
    - -c
    - {{ .c.script | quote }}
  env:
    - name: HOME
      value: /tmp
    - name: KEEP
      value: {{ $b.keep | quote }}
    - name: COMPRESS
      value: {{ $b.compress | quote }}
    {{- if $b.s3.enabled }}
    - name: S3_BUCKET
      value: {{ $b.s3.bucket | quote }}
    - name: S3_PREFIX
      value: {{ $b.s3.prefix | quote }}
    - name: S3_ENDPOINT
      value: {{ $b.s3.endpoint | quote }}
    {{- with $b.s3.region }}
    - name: AWS_REGION
      value: {{ . | quote }}
    {{- end }}
    {{- end }}
  resources:
    {{- toYaml $b.resources | nindent 4 }}
  securityContext:
    {{- toYaml .ctx.Values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: source
      mountPath: /source
      readOnly: true
    - name: backup
      mountPath: /backup
    - name: tmp
      mountPath: /tmp
    {{- if and $b.s3.existingSecret (eq .c.name "upload-s3") }}
    - name: s3-credentials
      mountPath: /s3-credentials
      readOnly: true
    {{- end }}
{{- end }}
