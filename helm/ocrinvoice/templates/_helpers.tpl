{{/*
Names, labels and the pieces shared by the api, worker and all Deployments.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "ocrinvoice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: RELEASE-NAME, or RELEASE when it already contains NAME; fullnameOverride wins. */}}
{{- define "ocrinvoice.fullname" -}}
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

{{/* Name of one component's resources: (dict "root" $ "component" "api"). */}}
{{- define "ocrinvoice.componentName" -}}
{{- printf "%s-%s" (include "ocrinvoice.fullname" .root | trunc 52 | trimSuffix "-") .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ocrinvoice.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "ocrinvoice.labels" -}}
helm.sh/chart: {{ include "ocrinvoice.chart" . }}
{{ include "ocrinvoice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ocrinvoice
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select this release's pods. */}}
{{- define "ocrinvoice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ocrinvoice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component: (dict "root" $ "component" "api"). */}}
{{- define "ocrinvoice.componentLabels" -}}
{{ include "ocrinvoice.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "api"). */}}
{{- define "ocrinvoice.componentSelectorLabels" -}}
{{ include "ocrinvoice.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* "true" in trial mode: no external database, so SQLite and one `ocrinvoice all` pod. */}}
{{- define "ocrinvoice.trial" -}}
{{- if and (empty .Values.database.url) (empty .Values.secrets.existingSecret) }}true{{ end }}
{{- end }}

{{/* The component that serves the API: api, or all in trial mode. */}}
{{- define "ocrinvoice.apiComponent" -}}
{{- if include "ocrinvoice.trial" . }}all{{ else }}api{{ end }}
{{- end }}

{{/* Container port of the API. */}}
{{- define "ocrinvoice.apiPort" -}}
{{- if include "ocrinvoice.trial" . }}{{ .Values.all.port }}{{ else }}{{ .Values.api.port }}{{ end }}
{{- end }}

{{- define "ocrinvoice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ocrinvoice.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ocrinvoice.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Name of the chart's Secret. */}}
{{- define "ocrinvoice.secretName" -}}
{{- include "ocrinvoice.fullname" . }}
{{- end }}

{{- define "ocrinvoice.redisName" -}}
{{- include "ocrinvoice.componentName" (dict "root" . "component" "redis") }}
{{- end }}

{{/* REDIS_URL of the chart's Redis. */}}
{{- define "ocrinvoice.redisInternalURL" -}}
{{- $auth := "" }}
{{- with .Values.redis.auth.password }}{{ $auth = printf ":%s@" . }}{{ end }}
{{- printf "redis://%s%s.%s.svc:6379/0" $auth (include "ocrinvoice.redisName" .) .Release.Namespace }}
{{- end }}

{{/*
Keys of the chart's Secret as a YAML map (empty map: no Secret). Values given in
values.yaml go here; whatever they leave empty comes from secrets.existingSecret.
*/}}
{{- define "ocrinvoice.secretData" -}}
{{- $d := dict }}
{{- with .Values.database.url }}{{ $_ := set $d "DATABASE_URL" . }}{{ end }}
{{- if .Values.redis.enabled }}
{{- $_ := set $d "REDIS_URL" (include "ocrinvoice.redisInternalURL" .) }}
{{- with .Values.redis.auth.password }}{{ $_ := set $d "REDIS_PASSWORD" . }}{{ end }}
{{- else if .Values.redis.url }}
{{- $_ := set $d "REDIS_URL" .Values.redis.url }}
{{- end }}
{{- with .Values.webhook.secret }}{{ $_ := set $d "OCRINVOICE_WEBHOOK_SECRET" . }}{{ end }}
{{- toYaml $d }}
{{- end }}

{{/* A secretKeyRef env entry: (dict "env" NAME "secret" SECRET "key" KEY "optional" BOOL). */}}
{{- define "ocrinvoice.secretEnvVar" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .key | quote }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/* Directory of the secret files (secrets.mountAsFiles); one file per variable name. */}}
{{- define "ocrinvoice.secretsDir" -}}
/var/run/secrets/ocrinvoice
{{- end }}

{{/*
The secrets an ocrinvoice container reads, as YAML {refs: [{env, secret, key, optional}]}:
(dict "root" $ "redis" BOOL "webhook" BOOL "dbSecret" NAME). Each value given in values.yaml
comes from the chart's Secret (DATABASE_URL from dbSecret instead when given: the migration
hook has its own), the rest from secrets.existingSecret; nothing for the database in trial
mode. The webhook secret of secrets.existingSecret is optional (unsigned webhooks).
*/}}
{{- define "ocrinvoice.secretRefs" -}}
{{- $root := .root }}
{{- $own := include "ocrinvoice.secretName" $root }}
{{- $ext := $root.Values.secrets.existingSecret }}
{{- $keys := $root.Values.secrets.existingSecretKeys }}
{{- $refs := list }}
{{- if $root.Values.database.url }}
{{- $refs = append $refs (dict "env" "DATABASE_URL" "secret" (.dbSecret | default $own) "key" "DATABASE_URL") }}
{{- else if $ext }}
{{- $refs = append $refs (dict "env" "DATABASE_URL" "secret" $ext "key" $keys.databaseUrl) }}
{{- end }}
{{- if .redis }}
{{- if or $root.Values.redis.enabled $root.Values.redis.url }}
{{- $refs = append $refs (dict "env" "REDIS_URL" "secret" $own "key" "REDIS_URL") }}
{{- else if $ext }}
{{- $refs = append $refs (dict "env" "REDIS_URL" "secret" $ext "key" $keys.redisUrl) }}
{{- else }}
{{- fail "ocrinvoice: no Redis: set redis.enabled=true, redis.url, or secrets.existingSecret with a REDIS_URL key" }}
{{- end }}
{{- end }}
{{- if .webhook }}
{{- if $root.Values.webhook.secret }}
{{- $refs = append $refs (dict "env" "OCRINVOICE_WEBHOOK_SECRET" "secret" $own "key" "OCRINVOICE_WEBHOOK_SECRET") }}
{{- else if $ext }}
{{- $refs = append $refs (dict "env" "OCRINVOICE_WEBHOOK_SECRET" "secret" $ext "key" $keys.webhookSecret "optional" true) }}
{{- end }}
{{- end }}
{{- toYaml (dict "refs" $refs) }}
{{- end }}

{{/*
The refs of ocrinvoice.secretRefs that become files with secrets.mountAsFiles: the certain
ones. An optional key may be missing, and the binary refuses a NAME_FILE naming no file,
so optional refs stay secretKeyRef variables. Same YAML shape; (dict "root" $ "refs" LIST).
*/}}
{{- define "ocrinvoice.secretFileRefs" -}}
{{- $files := list }}
{{- if .root.Values.secrets.mountAsFiles }}
{{- range .refs }}
{{- if not .optional }}{{ $files = append $files . }}{{ end }}
{{- end }}
{{- end }}
{{- toYaml (dict "refs" $files) }}
{{- end }}

{{/*
Secret environment variables of a container: (dict "root" $ "refs" LIST). A ref that is a
file (secrets.mountAsFiles) becomes NAME_FILE naming it; the others secretKeyRef variables.
*/}}
{{- define "ocrinvoice.secretEnv" -}}
{{- $dir := include "ocrinvoice.secretsDir" .root }}
{{- $files := (include "ocrinvoice.secretFileRefs" . | fromYaml).refs }}
{{- range .refs }}
{{- if has . $files }}
- name: {{ .env }}_FILE
  value: {{ printf "%s/%s" $dir .env | quote }}
{{- else }}
{{ include "ocrinvoice.secretEnvVar" . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The read-only projected volume "secrets" holding the file refs (one item per variable,
named after it), or nothing when there are none: (dict "root" $ "refs" LIST).
*/}}
{{- define "ocrinvoice.secretsVolume" -}}
{{- $files := (include "ocrinvoice.secretFileRefs" . | fromYaml).refs }}
{{- $names := list }}
{{- $items := dict }}
{{- range $files }}
{{- if not (has .secret $names) }}{{ $names = append $names .secret }}{{ end }}
{{- $_ := set $items .secret (append (get $items .secret | default list) (dict "key" .key "path" .env)) }}
{{- end }}
{{- if $names }}
- name: secrets
  projected:
    {{- if (.root.Values.podSecurityContext | default dict).fsGroup }}
    # Readable by the owner and fsGroup only.
    defaultMode: 0440
    {{- end }}
    sources:
      {{- range $names }}
      - secret:
          name: {{ . | quote }}
          items:
            {{- toYaml (get $items .) | nindent 12 }}
      {{- end }}
{{- end }}
{{- end }}

{{/* The mount of ocrinvoice.secretsVolume, or nothing: (dict "root" $ "refs" LIST). */}}
{{- define "ocrinvoice.secretsVolumeMount" -}}
{{- if (include "ocrinvoice.secretFileRefs" . | fromYaml).refs }}
- name: secrets
  mountPath: {{ include "ocrinvoice.secretsDir" .root }}
  readOnly: true
{{- end }}
{{- end }}

{{/* NAME: value map as a sorted env list. */}}
{{- define "ocrinvoice.envMap" -}}
{{- range $k := keys . | sortAlpha }}
- name: {{ $k }}
  value: {{ get $ $k | toString | quote }}
{{- end }}
{{- end }}

{{/* terminationGracePeriodSeconds of a component; refuses one not longer than preStop + shutdown. */}}
{{- define "ocrinvoice.gracePeriod" -}}
{{- $need := add .c.preStopSleepSeconds .c.shutdownTimeoutSeconds }}
{{- if .c.terminationGracePeriodSeconds }}
{{- if le (int .c.terminationGracePeriodSeconds) (int $need) }}
{{- fail (printf "ocrinvoice: %s.terminationGracePeriodSeconds (%v) must be longer than preStopSleepSeconds + shutdownTimeoutSeconds (%v)" .component .c.terminationGracePeriodSeconds $need) }}
{{- end }}
{{- .c.terminationGracePeriodSeconds }}
{{- else }}
{{- add $need 10 }}
{{- end }}
{{- end }}

{{/* Affinity of a component: its own, or the generated pod anti-affinity. (dict "root" $ "component" NAME "c" VALUES) */}}
{{- define "ocrinvoice.affinity" -}}
{{- if .c.affinity }}
{{- toYaml .c.affinity }}
{{- else if eq (.c.podAntiAffinity | default "") "soft" }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: {{ .c.podAntiAffinityTopologyKey }}
        labelSelector:
          matchLabels:
            {{- include "ocrinvoice.componentSelectorLabels" . | nindent 12 }}
{{- else if eq (.c.podAntiAffinity | default "") "hard" }}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: {{ .c.podAntiAffinityTopologyKey }}
      labelSelector:
        matchLabels:
          {{- include "ocrinvoice.componentSelectorLabels" . | nindent 10 }}
{{- end }}
{{- end }}

{{/* topologySpreadConstraints of a component, each given the component's selector when it has none. */}}
{{- define "ocrinvoice.topologySpread" -}}
{{- $sel := include "ocrinvoice.componentSelectorLabels" . | fromYaml }}
{{- range .c.topologySpreadConstraints }}
{{- $tsc := deepCopy . }}
{{- if not (hasKey $tsc "labelSelector") }}
{{- $_ := set $tsc "labelSelector" (dict "matchLabels" $sel) }}
{{- end }}
- {{ toYaml $tsc | nindent 2 | trim }}
{{- end }}
{{- end }}

{{/* Claim mounted at dataDir, or "" for an emptyDir. */}}
{{- define "ocrinvoice.dataClaim" -}}
{{- if include "ocrinvoice.trial" . }}
{{- with .Values.database.sqlite.persistence }}
{{- if .enabled }}{{ .existingClaim | default (include "ocrinvoice.componentName" (dict "root" $ "component" "data")) }}{{ end }}
{{- end }}
{{- else }}
{{- with .Values.uploads.persistence }}
{{- if .enabled }}{{ .existingClaim | default (include "ocrinvoice.componentName" (dict "root" $ "component" "uploads")) }}{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/* storageClassName line of a claim: "" leaves it unset, "-" sets "". */}}
{{- define "ocrinvoice.storageClass" -}}
{{- if eq . "-" }}
storageClassName: ""
{{- else if . }}
storageClassName: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Volumes every ocrinvoice pod has: tmp, and data (the claim, or an emptyDir). */}}
{{- define "ocrinvoice.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmp.sizeLimit }}
    {{- with .Values.tmp.medium }}
    medium: {{ . }}
    {{- end }}
{{- $claim := include "ocrinvoice.dataClaim" . }}
{{- if $claim }}
- name: data
  persistentVolumeClaim:
    claimName: {{ $claim }}
{{- else }}
- name: data
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "ocrinvoice.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: {{ .Values.dataDir }}
{{- end }}

{{/* httpGet probes on the named port: (dict "probes" VALUES "port" NAME). */}}
{{- define "ocrinvoice.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  {{- toYaml .probes.startup | nindent 2 }}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  {{- toYaml .probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  {{- toYaml .probes.readiness | nindent 2 }}
{{- end }}

{{/* Prometheus scrape annotations for a port number. */}}
{{- define "ocrinvoice.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ . | quote }}
prometheus.io/path: /metrics
{{- end }}

{{/*
A Deployment of ocrinvoice: (dict "root" $ "component" NAME "c" VALUES "command" SUBCOMMAND
"portName" NAME "port" NUMBER "env" MAP "replicas" N-or-nil "strategy" MAP).
*/}}
{{- define "ocrinvoice.deployment" -}}
{{- $root := .root }}
{{- $c := .c }}
{{- /* The webhook secret goes only to processes that send webhooks (worker, all). */}}
{{- $refs := (include "ocrinvoice.secretRefs" (dict "root" $root "redis" true "webhook" (ne .command "serve")) | fromYaml).refs }}
{{- $secrets := dict "root" $root "refs" $refs }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "ocrinvoice.componentName" . }}
  labels:
    {{- include "ocrinvoice.componentLabels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .replicas) }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "ocrinvoice.componentSelectorLabels" . | nindent 6 }}
  strategy:
    {{- toYaml .strategy | nindent 4 }}
  template:
    metadata:
      labels:
        {{- include "ocrinvoice.componentSelectorLabels" . | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $c.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        checksum/secret: {{ include "ocrinvoice.secretData" $root | sha256sum }}
        {{- if $root.Values.metrics.scrapeAnnotations }}
        {{- include "ocrinvoice.scrapeAnnotations" .port | nindent 8 }}
        {{- end }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $c.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "ocrinvoice.serviceAccountName" $root }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ include "ocrinvoice.gracePeriod" . }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "ocrinvoice.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            - {{ .command }}
          ports:
            - name: {{ .portName }}
              containerPort: {{ .port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "ocrinvoice.fullname" $root }}
          env:
            {{- include "ocrinvoice.envMap" .env | trim | nindent 12 }}
            {{- include "ocrinvoice.secretEnv" $secrets | trim | nindent 12 }}
            {{- with include "ocrinvoice.envMap" $c.env | trim }}
            {{- . | nindent 12 }}
            {{- end }}
          {{- include "ocrinvoice.probes" (dict "probes" $c.probes "port" .portName) | nindent 10 }}
          {{- if $c.preStopSleepSeconds }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", {{ $c.preStopSleepSeconds | toString | quote }}]
          {{- end }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "ocrinvoice.volumeMounts" $root | nindent 12 }}
            {{- with include "ocrinvoice.secretsVolumeMount" $secrets | trim }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "ocrinvoice.volumes" $root | nindent 8 }}
        {{- with include "ocrinvoice.secretsVolume" $secrets | trim }}
        {{- . | nindent 8 }}
        {{- end }}
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with include "ocrinvoice.affinity" . }}
      affinity:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with include "ocrinvoice.topologySpread" . }}
      topologySpreadConstraints:
        {{- . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* PodDisruptionBudget of a component: (dict "root" $ "component" NAME "c" VALUES). */}}
{{- define "ocrinvoice.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "ocrinvoice.componentName" . }}
  labels:
    {{- include "ocrinvoice.componentLabels" . | nindent 4 }}
spec:
  {{- if not (eq (toString .c.podDisruptionBudget.minAvailable) "") }}
  minAvailable: {{ .c.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .c.podDisruptionBudget.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "ocrinvoice.componentSelectorLabels" . | nindent 6 }}
{{- end }}

{{/* A PersistentVolumeClaim: (dict "root" $ "component" NAME "p" PERSISTENCE). */}}
{{- define "ocrinvoice.pvc" -}}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "ocrinvoice.componentName" . }}
  labels:
    {{- include "ocrinvoice.componentLabels" . | nindent 4 }}
  {{- with .p.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  accessModes:
    {{- toYaml .p.accessModes | nindent 4 }}
  {{- with include "ocrinvoice.storageClass" .p.storageClass | trim }}
  {{- . | nindent 2 }}
  {{- end }}
  resources:
    requests:
      storage: {{ .p.size }}
{{- end }}

{{/*
OCRINVOICE_AUTH of the process that serves the API: its component's env (api.env, or
all.env in trial mode), else config, else the binary's default, apikey.
*/}}
{{- define "ocrinvoice.auth" -}}
{{- $c := ternary .Values.all .Values.api (eq (include "ocrinvoice.apiComponent" .) "all") }}
{{- $env := $c.env | default dict }}
{{- $config := .Values.config | default dict }}
{{- get $env "OCRINVOICE_AUTH" | default (get $config "OCRINVOICE_AUTH") | default "apikey" | toString }}
{{- end }}
