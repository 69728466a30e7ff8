using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Crowd.Server.Infrastructure.Database;

/// <summary>Who connects: the cluster's superuser (set-up only), the schema's owner (migrations), or the application (the server at run time).</summary>
public enum DatabaseRole
{
    Superuser,
    Owner,
    Application,
}

/// <summary>
/// A PostgreSQL cluster the platform runs itself from the machine's PostgreSQL binaries, so that a
/// newcomer needs no database set-up. It listens on a free loopback port only, authenticates with
/// generated passwords, and is reused across restarts: the data stays in its folder. It has the roles
/// production has (SECURITY.md): an owner that runs migrations and an application role the server runs as,
/// neither of them a superuser.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private const string Superuser = "crowd";
    public const string OwnerRole = "crowd_owner";
    public const string ApplicationRole = "crowd_app";
    private readonly string _dataDirectory;
    private readonly bool _throwaway;
    private readonly string _binDirectory;
    private readonly bool _runAsPostgresUser;

    private EmbeddedPostgres(string dataDirectory, bool throwaway)
    {
        _dataDirectory = Path.GetFullPath(dataDirectory);
        _throwaway = throwaway;
        _binDirectory = FindBinDirectory();
        // PostgreSQL refuses to run as root; machines that run everything as root hand it to the postgres user.
        _runAsPostgresUser = Environment.UserName == "root";
    }

    public int Port { get; private set; }
    public string Password { get; private set; } = "";
    public string DataDirectory => _dataDirectory;

    private string _ownerPassword = "";
    private string _applicationPassword = "";

    public string ConnectionString(string database = "crowd", DatabaseRole role = DatabaseRole.Superuser) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = role switch { DatabaseRole.Owner => OwnerRole, DatabaseRole.Application => ApplicationRole, _ => Superuser },
        Password = role switch { DatabaseRole.Owner => _ownerPassword, DatabaseRole.Application => _applicationPassword, _ => Password },
        Database = database,
    }.ConnectionString;

    /// <summary>
    /// Creates the database owned by the owner role when it is missing. A database an earlier version created belongs
    /// to the superuser with everything in it; it is handed to the owner role, so the server can stop running as superuser.
    /// </summary>
    public async Task EnsureDatabaseAsync(string database, CancellationToken ct = default)
    {
        const string JobSchema = Scheduling.Scheduling.Schema;
        await using (var cluster = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await cluster.OpenAsync(ct);
            var owner = (string?)await cluster.ScalarAsync($"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = {database}", ct);
            if (owner is null)
            {
                await cluster.ExecuteTrustedScriptAsync(
                    $"CREATE DATABASE {BareConnection.Identifier(database)} OWNER {BareConnection.Identifier(OwnerRole)}", ct);
                return;
            }
            if (owner == OwnerRole)
            {
                return;
            }
            await cluster.ExecuteTrustedScriptAsync(
                $"ALTER DATABASE {BareConnection.Identifier(database)} OWNER TO {BareConnection.Identifier(OwnerRole)}", ct);
        }
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync(ct);
        // The job schema is the platform's too (the owner keeps it up to date under the migration lock). Tables first: their
        // identity and serial sequences follow them; then what stands alone.
        await connection.ExecuteTrustedScriptAsync($$"""
            DO $$
            DECLARE item record;
            BEGIN
                IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '{{JobSchema}}' AND pg_get_userbyid(nspowner) <> '{{OwnerRole}}') THEN
                    EXECUTE 'ALTER SCHEMA {{JobSchema}} OWNER TO {{OwnerRole}}';
                END IF;
                FOR item IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname IN ('public', '{{JobSchema}}') AND c.relkind IN ('r', 'p', 'v', 'm') AND pg_get_userbyid(c.relowner) <> '{{OwnerRole}}'
                LOOP
                    EXECUTE format('ALTER TABLE %s OWNER TO {{OwnerRole}}', item.name);
                END LOOP;
                FOR item IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname IN ('public', '{{JobSchema}}') AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> '{{OwnerRole}}'
                LOOP
                    EXECUTE format('ALTER SEQUENCE %s OWNER TO {{OwnerRole}}', item.name);
                END LOOP;
                FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                            WHERE n.nspname IN ('public', '{{JobSchema}}') AND pg_get_userbyid(p.proowner) <> '{{OwnerRole}}'
                LOOP
                    EXECUTE format('ALTER ROUTINE %s OWNER TO {{OwnerRole}}', item.name);
                END LOOP;
            END $$
            """, ct);
    }

    /// <summary>The owner and application roles, with the passwords kept beside the cluster (created on first use).</summary>
    private async Task EnsureRolesAsync(CancellationToken ct)
    {
        _ownerPassword = await RolePasswordAsync("owner-password", ct);
        _applicationPassword = await RolePasswordAsync("application-password", ct);
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(ct);
        foreach (var (role, password) in new[] { (OwnerRole, _ownerPassword), (ApplicationRole, _applicationPassword) })
        {
            var verb = await connection.ScalarAsync($"SELECT 1 FROM pg_roles WHERE rolname = {role}", ct) is null ? "CREATE" : "ALTER";
            // The passwords are generated hex, so they can stand in the statement (utility statements take no parameters).
            await connection.ExecuteTrustedScriptAsync(
                $"{verb} ROLE {BareConnection.Identifier(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '{password}'", ct);
        }
    }

    private async Task<string> RolePasswordAsync(string fileName, CancellationToken ct)
    {
        var file = Path.Combine(_dataDirectory, fileName);
        if (!File.Exists(file))
        {
            await File.WriteAllTextAsync(file, Convert.ToHexString(RandomNumberGenerator.GetBytes(24)), ct);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        return (await File.ReadAllTextAsync(file, ct)).Trim();
    }

    /// <summary>Starts (creating on first use) the durable cluster that keeps the platform's data.</summary>
    public static Task<EmbeddedPostgres> StartAsync(string dataDirectory, CancellationToken ct = default) =>
        new EmbeddedPostgres(dataDirectory, throwaway: false).StartCoreAsync(ct);

    /// <summary>Starts a cluster for tests: fsync off, deleted when disposed.</summary>
    public static Task<EmbeddedPostgres> StartThrowawayAsync(CancellationToken ct = default)
    {
        RemoveStoppedThrowaways();
        var dir = Path.Combine(Path.GetTempPath(), ThrowawayPrefix + Guid.NewGuid().ToString("N")[..12]);
        return new EmbeddedPostgres(dir, throwaway: true).StartCoreAsync(ct);
    }

    private async Task<EmbeddedPostgres> StartCoreAsync(CancellationToken ct)
    {
        var clusterDirectory = Path.Combine(_dataDirectory, "cluster");
        var passwordFile = Path.Combine(_dataDirectory, "password");
        Directory.CreateDirectory(_dataDirectory);
        GiveToPostgresUser(_dataDirectory);

        if (!File.Exists(Path.Combine(clusterDirectory, "PG_VERSION")))
        {
            await InitClusterAsync(clusterDirectory, passwordFile, ct);
        }
        Password = (await File.ReadAllTextAsync(passwordFile, ct)).Trim();

        var running = ReadRunningPort(clusterDirectory);
        if (running is { } port && await AnswersAsync(port, ct))
        {
            Port = port;
            await EnsureRolesAsync(ct);
            return this;
        }

        Port = FreeLoopbackPort();
        // Room for the server's connection pool (100 by default) beside the scheduler's and an operator's psql.
        var settings = $"-c listen_addresses=127.0.0.1 -p {Port} -c unix_socket_directories='' -c max_connections=300";
        if (_throwaway)
        {
            // Test classes run in parallel, each with its own database and connection pool.
            settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600";
        }
        await RunAsync("pg_ctl", ["start", "-w", "-t", "60", "-D", clusterDirectory,
            "-l", Path.Combine(_dataDirectory, "postgres.log"), "-o", settings], ct);
        await EnsureRolesAsync(ct);
        return this;
    }

    private async Task InitClusterAsync(string clusterDirectory, string passwordFile, CancellationToken ct)
    {
        if (Directory.Exists(clusterDirectory))
        {
            Directory.Delete(clusterDirectory, recursive: true); // a half-made cluster from an interrupted first start
        }
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        await File.WriteAllTextAsync(passwordFile, password, ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        GiveToPostgresUser(passwordFile);
        await RunAsync("initdb", ["-D", clusterDirectory, "-U", Superuser, "--pwfile", passwordFile,
            "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"], ct);
    }

    public async ValueTask DisposeAsync()
    {
        var clusterDirectory = Path.Combine(_dataDirectory, "cluster");
        if (File.Exists(Path.Combine(clusterDirectory, "postmaster.pid")))
        {
            await RunAsync("pg_ctl", ["stop", "-w", "-t", "60", "-m", "fast", "-D", clusterDirectory], CancellationToken.None);
        }
        if (_throwaway)
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private const string ThrowawayPrefix = "crowd-pg-";

    /// <summary>A test process that is killed cannot delete its cluster; the next run removes the ones no server runs in.</summary>
    private static void RemoveStoppedThrowaways()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), ThrowawayPrefix + "*"))
        {
            var cluster = Path.Combine(dir, "cluster");
            if (ReadRunningPort(cluster) is null && Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddMinutes(-1))
            {
                try
                {
                    Directory.Delete(dir, recursive: true);
                }
                catch (IOException)
                {
                    // another run is removing it
                }
                catch (UnauthorizedAccessException)
                {
                    // another user's cluster
                }
            }
        }
    }

    private static int? ReadRunningPort(string clusterDirectory)
    {
        var pidFile = Path.Combine(clusterDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return null;
        }
        // postmaster.pid: line 1 is the pid, line 4 the port.
        var lines = File.ReadAllLines(pidFile);
        if (lines.Length < 4 || !int.TryParse(lines[0], out var pid) || !int.TryParse(lines[3], out var port))
        {
            return null;
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : port;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private async Task<bool> AnswersAsync(int port, CancellationToken ct)
    {
        Port = port;
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
            await connection.OpenAsync(ct);
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void GiveToPostgresUser(string path)
    {
        if (_runAsPostgresUser)
        {
            RunAsync("chown", ["-R", "postgres:postgres", path], asPostgres: false, CancellationToken.None)
                .GetAwaiter().GetResult();
        }
    }

    private static string FindBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("CROWD_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(d => File.Exists(Path.Combine(d.Dir, "initdb")))
                .OrderByDescending(d => d.Version)
                .FirstOrDefault();
            if (newest.Dir is not null)
            {
                return newest.Dir;
            }
        }
        return ""; // rely on PATH
    }

    private Task RunAsync(string tool, string[] arguments, CancellationToken ct) =>
        RunAsync(tool, arguments, _runAsPostgresUser, ct);

    private async Task RunAsync(string tool, string[] arguments, bool asPostgres, CancellationToken ct)
    {
        var executable = tool is "chown" || _binDirectory.Length == 0 ? tool : Path.Combine(_binDirectory, tool);
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            start.FileName = "runuser";
            foreach (var a in new[] { "-u", "postgres", "--", executable })
            {
                start.ArgumentList.Add(a);
            }
        }
        else
        {
            start.FileName = executable;
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new EmbeddedPostgresException($"{tool} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new EmbeddedPostgresException(
                $"Cannot run {executable}: {e.Message}. Install PostgreSQL 15 (apt-get install postgresql) or set ConnectionStrings__Crowd.");
        }
        using (process)
        {
            // The server itself writes to its log file (-l), so these pipes close when the tool exits.
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(120));
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
            {
                var error = (await stderr) + (await stdout);
                throw new EmbeddedPostgresException(
                    $"{tool} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {error.Trim()} (see {Path.Combine(_dataDirectory, "postgres.log")})");
            }
        }
    }
}

public sealed class EmbeddedPostgresException(string message) : Exception(message);
