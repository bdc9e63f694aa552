// Compatibility test: drives a Ferry server with the unmodified third-party
// npm client mlflow@2.0.7 (CommonJS, lib/*.js), calling every method it
// has, and checks the answers.
//
//   FERRY_URL=http://127.0.0.1:5000 node compat.js
//
// Prints "ok"/"FAIL" per check and a final line "N passed, M failed";
// exits 1 when a check failed, 2 when it could not start.
'use strict'

const MLflow = require('mlflow')
const { ViewType, RunStatus } = require('mlflow/enum')

const endpoint = (process.env.FERRY_URL || '').replace(/\/+$/, '')
if (!endpoint) {
  console.error('compat.js: set FERRY_URL to the server URL, e.g. http://127.0.0.1:5000')
  process.exit(2)
}
const verbose = !!process.env.COMPAT_VERBOSE

// The client console.logs every request body it sends. Keep the last one
// to show with a failure instead of printing them all.
let lastBody = ''
const print = (s) => process.stdout.write(s + '\n')
console.log = (...args) => {
  lastBody = args.join(' ')
  if (verbose) print('    > ' + lastBody)
}

const client = new MLflow({ endpoint })
const { Experiments, Runs, Metrics, Artifacts } = client

let passed = 0
let failed = 0

async function check (name, fn) {
  lastBody = ''
  try {
    await fn()
    passed++
    print('ok   ' + name)
  } catch (err) {
    failed++
    print('FAIL ' + name + ': ' + (err && err.message ? err.message : String(err)))
    if (lastBody) print('     last request body: ' + lastBody)
  }
}

function assert (cond, msg) {
  if (!cond) throw new Error(msg)
}

function eq (got, want, what) {
  const g = JSON.stringify(got)
  const w = JSON.stringify(want)
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`)
}

// The client turns any non-200 answer into Error('Error: {"status":...,
// "statusText":...,"data":...}'); httpError recovers that object.
function httpError (err) {
  const msg = String(err && err.message)
  const i = msg.indexOf('{')
  if (i < 0) return null
  try {
    return JSON.parse(msg.slice(i))
  } catch (_) {
    return null
  }
}

async function expectStatus (promise, status, errorCode) {
  let res
  try {
    res = await promise
  } catch (err) {
    const e = httpError(err)
    if (!e) throw new Error('request failed without an HTTP answer: ' + err.message)
    eq(e.status, status, 'HTTP status')
    if (errorCode) eq(e.data && e.data.error_code, errorCode, 'error_code')
    return e
  }
  throw new Error(`expected HTTP ${status}, got success: ${JSON.stringify(res)}`)
}

const byKey = (list) => Object.fromEntries((list || []).map((x) => [x.key, x]))

async function main () {
  const suffix = `${Date.now()}-${process.pid}`
  const expName = `npm-compat-${suffix}`
  const t0 = Date.UTC(2024, 2, 1, 12, 0, 0)
  let expId, runId, run2Id

  // ---- experiments
  await check('Experiments.create', async () => {
    const res = await Experiments.create({ name: expName })
    assert(typeof res.experiment_id === 'string' && res.experiment_id !== '', 'experiment_id: ' + JSON.stringify(res))
    expId = res.experiment_id
  })
  await check('Experiments.create with artifact_location', async () => {
    const res = await Experiments.create({ name: expName + '-loc', artifact_location: 'mlflow-artifacts:/npm-compat-' + suffix })
    const { experiment } = await Experiments.get({ experiment_id: res.experiment_id })
    eq(experiment.artifact_location, 'mlflow-artifacts:/npm-compat-' + suffix, 'artifact_location')
  })
  await check('Experiments.create duplicate name is RESOURCE_ALREADY_EXISTS', async () => {
    await expectStatus(Experiments.create({ name: expName }), 400, 'RESOURCE_ALREADY_EXISTS')
  })
  await check('Experiments.get', async () => {
    const { experiment } = await Experiments.get({ experiment_id: expId })
    eq(experiment.experiment_id, expId, 'experiment_id')
    eq(experiment.name, expName, 'name')
    eq(experiment.lifecycle_stage, 'active', 'lifecycle_stage')
    assert(typeof experiment.creation_time === 'number' && experiment.creation_time > 0, 'creation_time: ' + experiment.creation_time)
    assert(typeof experiment.artifact_location === 'string' && experiment.artifact_location !== '', 'artifact_location is empty')
  })
  await check('Experiments.get unknown id is RESOURCE_DOES_NOT_EXIST', async () => {
    await expectStatus(Experiments.get({ experiment_id: '987654321' }), 404, 'RESOURCE_DOES_NOT_EXIST')
  })
  await check('Experiments.update', async () => {
    const res = await Experiments.update({ experiment_id: expId, new_name: expName + '-renamed' })
    eq(res, {}, 'response')
    const { experiment } = await Experiments.get({ experiment_id: expId })
    eq(experiment.name, expName + '-renamed', 'name after update')
  })
  await check('Experiments.setExperimentTag 404s (client bug: URL lacks a slash, as against MLflow)', async () => {
    await expectStatus(Experiments.setExperimentTag({ experiment_id: expId, key: 'team', value: 'compat' }), 404)
  })
  await check('Experiments.list 404s (experiments/list was removed in MLflow 2.0)', async () => {
    await expectStatus(Experiments.list({ view_type: ViewType.ALL }), 404)
  })

  // ---- runs
  await check('Runs.create', async () => {
    const { run } = await Runs.create({
      experiment_id: expId, user_id: 'npm-user', start_time: t0, tags: [{ key: 'team', value: 'compat' }]
    })
    runId = run.info.run_id
    assert(/^[0-9a-f]{32}$/.test(runId), 'run_id: ' + runId)
    eq(run.info.experiment_id, expId, 'experiment_id')
    eq(run.info.user_id, 'npm-user', 'user_id')
    eq(run.info.status, RunStatus.RUNNING, 'status')
    eq(run.info.start_time, t0, 'start_time')
    eq(run.info.lifecycle_stage, 'active', 'lifecycle_stage')
    assert(typeof run.info.artifact_uri === 'string' && run.info.artifact_uri.includes(runId), 'artifact_uri: ' + run.info.artifact_uri)
    const tags = byKey(run.data.tags)
    eq(tags.team && tags.team.value, 'compat', 'tag team')
    // The client sends no run_name; the server names the run itself.
    assert(tags['mlflow.runName'] && tags['mlflow.runName'].value, 'mlflow.runName tag missing')
  })
  await check('Runs.create second run', async () => {
    const { run } = await Runs.create({ experiment_id: expId, user_id: 'npm-user', start_time: t0 + 1000 })
    run2Id = run.info.run_id
    assert(run2Id && run2Id !== runId, 'second run_id')
  })
  await check('Runs.logMetric', async () => {
    eq(await Runs.logMetric({ run_id: runId, key: 'loss', value: 0.5, timestamp: t0 + 1, step: 1 }), {}, 'response')
    eq(await Runs.logMetric({ run_id: runId, key: 'loss', value: 0.25, timestamp: t0 + 2, step: 2 }), {}, 'response')
    await Runs.logMetric({ run_id: run2Id, key: 'loss', value: 0.75, timestamp: t0 + 3, step: 1 })
  })
  await check('Runs.logMetric without step defaults to step 0', async () => {
    await Runs.logMetric({ run_id: run2Id, key: 'lat_ms', value: 12, timestamp: t0 + 4 })
  })
  await check('Runs.logParameter', async () => {
    eq(await Runs.logParameter({ run_id: runId, key: 'lr', value: '0.01' }), {}, 'response')
    await Runs.logParameter({ run_id: run2Id, key: 'lr', value: '0.1' })
  })
  await check('Runs.logParameter with a new value is INVALID_PARAMETER_VALUE', async () => {
    await expectStatus(Runs.logParameter({ run_id: runId, key: 'lr', value: '0.02' }), 400, 'INVALID_PARAMETER_VALUE')
  })
  await check('Runs.setTag', async () => {
    eq(await Runs.setTag({ run_id: runId, key: 'stage', value: 'dev' }), {}, 'response')
    const { run } = await Runs.get({ run_id: runId })
    eq(byKey(run.data.tags).stage && byKey(run.data.tags).stage.value, 'dev', 'tag stage')
  })
  await check('Runs.deleteTag', async () => {
    eq(await Runs.deleteTag({ run_id: runId, key: 'stage' }), {}, 'response')
    const { run } = await Runs.get({ run_id: runId })
    assert(!byKey(run.data.tags).stage, 'tag stage still present')
  })
  await check('Runs.logBatch', async () => {
    const res = await Runs.logBatch({
      run_id: runId,
      metrics: [
        { key: 'acc', value: 0.9, timestamp: t0 + 10, step: 0 },
        { key: 'acc', value: 0.95, timestamp: t0 + 11, step: 1 }
      ],
      params: [{ key: 'depth', value: '6' }],
      tags: [{ key: 'note', value: 'from npm' }]
    })
    eq(res, {}, 'response')
  })
  await check('Runs.get', async () => {
    const { run } = await Runs.get({ run_id: runId })
    eq(run.info.run_id, runId, 'run_id')
    const metrics = byKey(run.data.metrics)
    eq(metrics.loss && [metrics.loss.value, metrics.loss.step, metrics.loss.timestamp], [0.25, 2, t0 + 2], 'latest loss [value, step, timestamp]')
    eq(metrics.acc && [metrics.acc.value, metrics.acc.step], [0.95, 1], 'latest acc [value, step]')
    const params = byKey(run.data.params)
    eq(params.lr && params.lr.value, '0.01', 'param lr')
    eq(params.depth && params.depth.value, '6', 'param depth')
    const tags = byKey(run.data.tags)
    eq(tags.note && tags.note.value, 'from npm', 'tag note')
    eq(tags.team && tags.team.value, 'compat', 'tag team')
  })
  await check('Runs.get unknown run is RESOURCE_DOES_NOT_EXIST', async () => {
    await expectStatus(Runs.get({ run_id: 'f'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST')
  })
  await check('Metrics.getHistory', async () => {
    const { metrics } = await Metrics.getHistory({ run_id: runId, metric_key: 'loss' })
    const hist = metrics.map((m) => [m.step, m.value, m.timestamp]).sort((a, b) => a[0] - b[0])
    eq(hist, [[1, 0.5, t0 + 1], [2, 0.25, t0 + 2]], 'loss history [step, value, timestamp]')
    const acc = await Metrics.getHistory({ run_id: runId, metric_key: 'acc' })
    eq(acc.metrics.length, 2, 'acc history length')
    const lat = await Metrics.getHistory({ run_id: run2Id, metric_key: 'lat_ms' })
    eq(lat.metrics.map((m) => [m.step, m.value]), [[0, 12]], 'lat_ms history [step, value]')
  })
  await check('Runs.search with a filter', async () => {
    const { runs } = await Runs.search({
      experiment_ids: [expId], filter: "metrics.loss < 0.3 and params.lr = '0.01'", run_view_type: ViewType.ACTIVE_ONLY
    })
    eq((runs || []).map((r) => r.info.run_id), [runId], 'matching runs')
    const none = await Runs.search({ experiment_ids: [expId], filter: 'metrics.loss > 1' })
    eq((none.runs || []).length, 0, 'runs matching metrics.loss > 1')
  })
  await check('Runs.search order_by and paging', async () => {
    const first = await Runs.search({ experiment_ids: [expId], order_by: ['metrics.loss DESC'], max_results: 1 })
    eq(first.runs.map((r) => r.info.run_id), [run2Id], 'first page')
    assert(first.next_page_token, 'next_page_token missing')
    const second = await Runs.search({ experiment_ids: [expId], order_by: ['metrics.loss DESC'], max_results: 1, page_token: first.next_page_token })
    eq(second.runs.map((r) => r.info.run_id), [runId], 'second page')
    assert(!second.next_page_token, 'unexpected next_page_token on the last page')
  })
  await check('Runs.update', async () => {
    const { run_info: info } = await Runs.update({ run_id: runId, status: RunStatus.FINISHED, end_time: t0 + 90000 })
    eq(info.status, 'FINISHED', 'status')
    eq(info.end_time, t0 + 90000, 'end_time')
    const { run } = await Runs.get({ run_id: runId })
    eq([run.info.status, run.info.end_time], ['FINISHED', t0 + 90000], 'get after update [status, end_time]')
  })
  await check('Artifacts.list (empty)', async () => {
    const res = await Artifacts.list({ run_id: run2Id })
    assert(typeof res.root_uri === 'string' && res.root_uri.includes(run2Id), 'root_uri: ' + res.root_uri)
    eq((res.files || []).length, 0, 'files')
  })
  await check('Artifacts.list after an upload through the artifact proxy', async () => {
    const { run } = await Runs.get({ run_id: runId })
    const rel = run.info.artifact_uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\/*/, '')
    for (const [path, body] of [['model.txt', 'weights\n'], ['plots/loss.csv', 'step,loss\n1,0.5\n']]) {
      const put = await fetch(`${endpoint}/api/2.0/mlflow-artifacts/artifacts/${rel}/${path}`, { method: 'PUT', body })
      eq(put.status, 200, `PUT ${path} status`)
    }
    const res = await Artifacts.list({ run_id: runId })
    const files = Object.fromEntries((res.files || []).map((f) => [f.path, f]))
    eq(files['model.txt'] && [files['model.txt'].is_dir, files['model.txt'].file_size], [false, 8], 'model.txt [is_dir, file_size]')
    eq(files.plots && files.plots.is_dir, true, 'plots is a directory')
    const sub = await Artifacts.list({ run_id: runId, path: 'plots' })
    eq((sub.files || []).map((f) => [f.path, f.file_size]), [['plots/loss.csv', 16]], 'plots/ listing [path, file_size]')
  })
  await check('Runs.delete', async () => {
    eq(await Runs.delete({ run_id: run2Id }), {}, 'response')
    const { run } = await Runs.get({ run_id: run2Id })
    eq(run.info.lifecycle_stage, 'deleted', 'lifecycle_stage')
    const active = await Runs.search({ experiment_ids: [expId], run_view_type: ViewType.ACTIVE_ONLY })
    eq((active.runs || []).map((r) => r.info.run_id), [runId], 'active runs')
    const deleted = await Runs.search({ experiment_ids: [expId], run_view_type: ViewType.DELETED_ONLY })
    eq((deleted.runs || []).map((r) => r.info.run_id), [run2Id], 'deleted runs')
  })
  await check('Runs.restore', async () => {
    eq(await Runs.restore({ run_id: run2Id }), {}, 'response')
    const { run } = await Runs.get({ run_id: run2Id })
    eq(run.info.lifecycle_stage, 'active', 'lifecycle_stage')
    const all = await Runs.search({ experiment_ids: [expId], run_view_type: ViewType.ALL })
    eq((all.runs || []).length, 2, 'runs in view ALL')
  })
  await check('Experiments.delete', async () => {
    eq(await Experiments.delete({ experiment_id: expId }), {}, 'response')
    const { experiment } = await Experiments.get({ experiment_id: expId })
    eq(experiment.lifecycle_stage, 'deleted', 'lifecycle_stage')
  })
  await check('Experiments.restore', async () => {
    eq(await Experiments.restore({ experiment_id: expId }), {}, 'response')
    const { experiment } = await Experiments.get({ experiment_id: expId })
    eq(experiment.lifecycle_stage, 'active', 'lifecycle_stage')
  })
}

main().then(
  () => {
    print(`${passed} passed, ${failed} failed`)
    process.exit(failed > 0 ? 1 : 0)
  },
  (err) => {
    print('compat.js crashed: ' + (err && err.stack ? err.stack : String(err)))
    print(`${passed} passed, ${failed + 1} failed`)
    process.exit(1)
  }
)
