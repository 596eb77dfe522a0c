{{/* The chart name, or nameOverride. */}}
{{- define "statusd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of every object: fullnameOverride, or the release name when it
already contains the chart name, else release-chart. Truncated to 63
characters, the limit of a label value and of many names.
*/}}
{{- define "statusd.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "statusd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "statusd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select statusd's pods; they never change across upgrades. */}}
{{- define "statusd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "statusd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount statusd runs as. */}}
{{- define "statusd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "statusd.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The ConfigMap holding the catalogue. */}}
{{- define "statusd.catalogName" -}}
{{- default (printf "%s-catalog" (include "statusd.fullname" .) | trunc 63 | trimSuffix "-") .Values.catalog.name }}
{{- end }}

{{/* The ConfigMap holding the operator's overlay, when it has its own. */}}
{{- define "statusd.overlayName" -}}
{{- default (printf "%s-catalog-overlay" (include "statusd.fullname" .) | trunc 63 | trimSuffix "-") .Values.catalog.overlay.name }}
{{- end }}

{{/*
The catalogue ConfigMaps statusd watches, in the order their files merge:
the catalogue's, then the overlay's when it has its own. One name a line.
*/}}
{{- define "statusd.catalogConfigMaps" -}}
{{ include "statusd.catalogName" . }}
{{- if .Values.catalog.overlay.separate }}
{{ include "statusd.overlayName" . }}
{{- end }}
{{- end }}

{{/*
The leader-election Lease, in the release namespace: named like the release's
objects, so that two releases in one namespace elect separately. The default
release's is statusd, statusd run's own default.
*/}}
{{- define "statusd.leaseName" -}}
{{- include "statusd.fullname" . }}
{{- end }}

{{/* The image reference. */}}
{{- define "statusd.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Label matchers for statusd's own series in the PrometheusRule. */}}
{{- define "statusd.seriesSelector" -}}
{{- default (printf "job=%q,namespace=%q" (include "statusd.fullname" .) .Release.Namespace) .Values.prometheusRule.selector }}
{{- end }}
