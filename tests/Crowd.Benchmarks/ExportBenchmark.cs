using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Crowd.Benchmarks;

public sealed record ExportBenchmarkResult(int Clips, long Bytes, TimeSpan Seed, TimeSpan Manifest, TimeSpan Download)
{
    public TimeSpan Total => Manifest + Download;
    public double ClipsPerSecond => Clips / Total.TotalSeconds;
    public double MegabytesPerSecond => Bytes / 1048576.0 / Total.TotalSeconds;
}

/// <summary>
/// A dataset export end to end on a generated job: the signed manifest (exportable-clips query, pseudonyms, recipients,
/// audit), then every clip the way the dataset command fetches it (the endpoint's read: recipient and consent check,
/// decryption) and keeps it (SHA-256 against the manifest, written to a directory), four at a time.
/// </summary>
public static class ExportBenchmark
{
    public static async Task<ExportBenchmarkResult> RunAsync(string connectionString, string workDirectory, int clips, double clipSeconds, TextWriter output)
    {
        var store = new BenchClipStore(connectionString, workDirectory);

        var step = Stopwatch.StartNew();
        var (organisationId, userId, jobId) = await SeedAsync(connectionString, store.Vault, clips, clipSeconds);
        var seed = step.Elapsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed      {clips:N0} encrypted clips of {clipSeconds:0.#} s: {seed.TotalSeconds,6:F2} s (not counted)"));

        // A small job first, so that the figures are of the work and not of building the EF model and compiling queries.
        var warmUp = await SeedAsync(connectionString, store.Vault, 20, clipSeconds);
        await ExportAndReadAsync(warmUp.Organisation, warmUp.User, warmUp.Job, Path.Combine(workDirectory, "warm-up"));

        step.Restart();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var (export, manifest, download, bytes) = await ExportAndReadAsync(organisationId, userId, jobId, Path.Combine(workDirectory, "out"));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"manifest  {export.ClipCount:N0} clips, {export.ManifestJsonl.Length / 1048576.0:0.0} MB JSONL, signed, recipients and audit written: {manifest.TotalSeconds,6:F2} s"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"clips     {export.ClipCount:N0} read, decrypted, checked, written: {download.TotalSeconds,6:F2} s, {export.ClipCount / download.TotalSeconds,8:N0} clips/s, {bytes / 1048576.0 / download.TotalSeconds,7:N1} MB/s"));
        var result = new ExportBenchmarkResult(export.ClipCount, bytes, seed, manifest, download);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total     {result.Clips:N0} clips, {bytes / 1048576.0:N0} MB in {result.Total.TotalSeconds:F2} s: {result.ClipsPerSecond:N0} clips/s, {result.MegabytesPerSecond:N1} MB/s"));
        // Wall-clock figures depend on what else the machine runs; this one counts only this process's own CPU (not PostgreSQL's).
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cpu       {cpu.TotalSeconds:F2} s of this process's CPU: {result.Clips / cpu.TotalSeconds:N0} clips per CPU-second; load average {LoadAverage()}"));
        return result;

        async Task<(DatasetExport Export, TimeSpan Manifest, TimeSpan Download, long Bytes)> ExportAndReadAsync(Guid organisationId, Guid userId, Guid jobId, string directory)
        {
            var step = Stopwatch.StartNew();
            DatasetExport export;
            await using (var db = store.Open())
            {
                var exporter = store.Exporter(db);
                var outcome = await exporter.CreateAsync(new ExportCaller(organisationId, userId, null), jobId, DatasetUse.SpeechRecognition, default);
                export = outcome.Export ?? throw new InvalidOperationException($"The export was not created: {outcome.Kind}");
            }
            var manifest = step.Elapsed;

            var target = Path.Combine(directory, "clips");
            Directory.CreateDirectory(target);
            var entries = export.ManifestJsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(line => System.Text.Json.JsonSerializer.Deserialize<ManifestClip>(line, DatasetManifest.Json)!).ToList();
            long bytes = 0;
            step.Restart();
            await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (entry, ct) =>
            {
                await using var db = store.Open();
                var exporter = store.Exporter(db);
                var read = await exporter.ReadClipAsync(organisationId, export.Id, entry.ClipId, ct);
                if (read.Wav is null || Convert.ToHexStringLower(SHA256.HashData(read.Wav)) != entry.Sha256)
                {
                    throw new InvalidOperationException($"Clip {entry.ClipId} did not come back intact ({read.Kind}).");
                }
                await File.WriteAllBytesAsync(Path.Combine(target, $"{entry.ClipId:D}.wav"), read.Wav, ct);
                Interlocked.Add(ref bytes, read.Wav.Length);
            });
            return (export, manifest, step.Elapsed, bytes);
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    /// <summary>One requester, one job with a prompt per clip, 50 clips per speaker, every clip accepted under a live consent.</summary>
    internal static async Task<(Guid Organisation, Guid User, Guid Job)> SeedAsync(string connectionString, ClipVault vault, int clips, double clipSeconds)
    {
        var organisationId = Guid.CreateVersion7();
        var userId = Guid.CreateVersion7();
        var jobId = Guid.CreateVersion7();
        var speakers = Math.Max(1, clips / 50);
        await using var data = NpgsqlDataSource.Create(connectionString);
        await using (var command = data.CreateCommand($"""
            INSERT INTO organisations (id, name, kind, created_at) VALUES ('{organisationId}', 'Bench requester', 1, now());
            INSERT INTO users (id, display_name, date_of_birth, preferred_culture, created_at, user_name, email_confirmed, phone_number_confirmed,
                               two_factor_enabled, lockout_enabled, access_failed_count, organisation_id)
            VALUES ('{userId}', 'Requester', '1990-01-01', 'en', now(), 'requester-' || '{userId}' || '@bench.test', false, false, false, false, 0, '{organisationId}');
            INSERT INTO users (id, display_name, date_of_birth, preferred_culture, created_at, user_name, email_confirmed, phone_number_confirmed,
                               two_factor_enabled, lockout_enabled, access_failed_count)
            SELECT md5('{jobId}-speaker-' || i)::uuid, 'Speaker ' || i, '1995-01-01', 'zh-Hans', now(), 'speaker' || i || '@bench.test', false, false, false, false, 0
            FROM generate_series(1, {speakers}) AS i;
            INSERT INTO jobs (id, organisation_id, created_by_user_id, status, version, title, description, language, takes_per_prompt, clip_min_ms,
                              clip_max_ms, min_snr_db, max_clipping_ratio, min_speech_ratio, environment_notes, hourly_rate_minor, currency, region,
                              estimated_seconds_per_clip, buyer_name, purpose_speech_recognition, purpose_voice_cloning, retention_days, prompt_count,
                              created_at, updated_at, published_at, prompts_sha256)
            VALUES ('{jobId}', '{organisationId}', '{userId}', 1, 1, 'Bench job', '', 'zh-CN', 1, 1000, 15000, 15, 0.005, 0.3, '', 3000, 'CNY', 'CN-BJ', 20,
                    'Bench buyer', true, false, 365, {clips}, now(), now(), now(), '');
            INSERT INTO job_versions (job_id, version, terms_json, terms_sha256, published_at) VALUES ('{jobId}', 1, jsonb_build_object()::text, '', now());
            INSERT INTO prompts (id, job_id, ordinal, text, external_ref)
            SELECT md5('{jobId}-prompt-' || i)::uuid, '{jobId}', i, '第 ' || i || ' 句：今天天气很好，我们一起去公园散步吧。', 'p' || i
            FROM generate_series(1, {clips}) AS i;
            INSERT INTO recording_tasks (id, job_id, prompt_id, ordinal, slot, takes_needed, accepted_takes)
            SELECT md5('{jobId}-task-' || i)::uuid, '{jobId}', md5('{jobId}-prompt-' || i)::uuid, i, 0, 1, 1 FROM generate_series(1, {clips}) AS i;
            INSERT INTO consents (id, job_id, job_version, contributor_id, terms_sha256, given_at, voice_cloning)
            SELECT md5('{jobId}-consent-' || i)::uuid, '{jobId}', 1, md5('{jobId}-speaker-' || i)::uuid, '', now(), false FROM generate_series(1, {speakers}) AS i;
            INSERT INTO worker_sessions (id, job_id, job_version, contributor_id, state, active_ms, clips, started_at, last_activity_at, last_checkpoint_at, last_chunk_seq)
            SELECT md5('{jobId}-session-' || i)::uuid, '{jobId}', 1, md5('{jobId}-speaker-' || i)::uuid, 1, 0, 0, now(), now(), now(), 0
            FROM generate_series(1, {speakers}) AS i;
            """))
        {
            await command.ExecuteNonQueryAsync();
        }

        var samples = (int)(16_000 * clipSeconds);
        var pcm = new short[samples];
        for (var i = 0; i < samples; i++)
        {
            pcm[i] = (short)(6_000 * Math.Sin(2 * Math.PI * 220 * i / 16_000.0) + 2_000 * Math.Sin(2 * Math.PI * 3_100 * i / 16_000.0));
        }
        var template = Crowd.Audio.Wav.WavWriter.Pcm16Mono(pcm, 16_000);
        var rows = new (Guid Id, int Index, StoredClip Stored)[clips];
        await Parallel.ForAsync(0, clips, async (i, ct) =>
        {
            var id = Guid.CreateVersion7();
            var wav = (byte[])template.Clone();
            // A few samples of its own, so that every clip has its own hash.
            id.TryWriteBytes(wav.AsSpan(44, 16));
            rows[i] = (id, i + 1, await vault.StoreAsync(id, wav, ct));
        });

        await using var connection = await data.OpenConnectionAsync();
        await using (var copy = await connection.BeginBinaryImportAsync("""
            COPY clips (id, take_id, session_id, task_id, job_id, job_version, prompt_id, contributor_id, storage_key, sha256, size_bytes, wrapped_key,
                        sample_rate, duration_ms, metrics, verdict, browser_settings, created_at, consent_id, review_status, reviewed_at)
            FROM STDIN (FORMAT BINARY)
            """))
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var (id, index, stored) in rows)
            {
                var speaker = (index - 1) % speakers + 1;
                await copy.StartRowAsync();
                await copy.WriteAsync(id, NpgsqlDbType.Uuid);
                await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await copy.WriteAsync(Md5Guid($"{jobId}-session-{speaker}"), NpgsqlDbType.Uuid);
                await copy.WriteAsync(Md5Guid($"{jobId}-task-{index}"), NpgsqlDbType.Uuid);
                await copy.WriteAsync(jobId, NpgsqlDbType.Uuid);
                await copy.WriteAsync(1, NpgsqlDbType.Integer);
                await copy.WriteAsync(Md5Guid($"{jobId}-prompt-{index}"), NpgsqlDbType.Uuid);
                await copy.WriteAsync(Md5Guid($"{jobId}-speaker-{speaker}"), NpgsqlDbType.Uuid);
                await copy.WriteAsync(stored.StorageKey, NpgsqlDbType.Varchar);
                await copy.WriteAsync(stored.Sha256, NpgsqlDbType.Varchar);
                await copy.WriteAsync(stored.SizeBytes, NpgsqlDbType.Bigint);
                await copy.WriteAsync(stored.WrappedKey, NpgsqlDbType.Bytea);
                await copy.WriteAsync(16_000, NpgsqlDbType.Integer);
                await copy.WriteAsync((int)(clipSeconds * 1000), NpgsqlDbType.Integer);
                await copy.WriteAsync($$"""{"rmsDbfs": -{{18 + index % 7}}.5, "snrDb": {{25 + index % 11}}.0, "speechRatio": 0.8}""", NpgsqlDbType.Jsonb);
                await copy.WriteAsync("""{"passed": true}""", NpgsqlDbType.Jsonb);
                await copy.WriteAsync("{}", NpgsqlDbType.Jsonb);
                await copy.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(Md5Guid($"{jobId}-consent-{speaker}"), NpgsqlDbType.Uuid);
                await copy.WriteAsync((int)ClipReview.Accepted, NpgsqlDbType.Integer);
                await copy.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }
            await copy.CompleteAsync();
        }
        await using (var analyze = new NpgsqlCommand("ANALYZE clips; ANALYZE prompts; ANALYZE consents;", connection))
        {
            await analyze.ExecuteNonQueryAsync();
        }
        return (organisationId, userId, jobId);
    }

    private static Guid Md5Guid(string text)
    {
#pragma warning disable CA5351 // matches PostgreSQL's md5()::uuid for seeded ids; not security
        return Guid.Parse(Convert.ToHexString(MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text))));
#pragma warning restore CA5351
    }
}

/// <summary>The clip store, keys and pooled contexts the server builds, over a work directory and a migrated database.</summary>
internal sealed class BenchClipStore
{
    private readonly ExportKeys _keys;
    private readonly AuditKey _auditKey = new(RandomNumberGenerator.GetBytes(32));
    private readonly PooledDbContextFactory<CrowdDb> _contexts;

    public BenchClipStore(string connectionString, string workDirectory)
    {
        var options = Options.Create(new CrowdOptions
        {
            DataDirectory = Path.Combine(workDirectory, "data"),
            Clips = new ClipStoreOptions { MasterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) },
        });
        var environment = new HostingEnvironment { ContentRootPath = workDirectory };
        var master = new ClipMasterKey(options, new KeyFiles(options, environment, NullLogger<KeyFiles>.Instance));
        Vault = new ClipVault(new DirectoryClipStore(new ClipPaths(options, environment)), master);
        _keys = new ExportKeys(master);
        // Pooled, as the server's contexts are.
        _contexts = new PooledDbContextFactory<CrowdDb>(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(connectionString).Options);
    }

    public ClipVault Vault { get; }

    public CrowdDb Open() => _contexts.CreateDbContext();

    public AuditLog Audit(CrowdDb db) => new(db, TimeProvider.System, _auditKey);

    public DatasetExporter Exporter(CrowdDb db)
    {
        var audit = Audit(db);
        return new(db, _keys, new DatasetSigningKeys(db, _keys, audit, TimeProvider.System), audit, Vault, TimeProvider.System);
    }
}
