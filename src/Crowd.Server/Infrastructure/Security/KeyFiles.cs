using System.Security.Cryptography;
using Crowd.Server.Infrastructure.Database;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Security;

public static class SecuritySetup
{
    /// <summary>The keys, from configuration or the keys folder, and the data-protection key ring they encrypt.</summary>
    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<KeyFiles>();
        services.AddSingleton<IValidateOptions<CrowdOptions>, KeyPlacement>();
        services.AddOptions<CrowdOptions>().ValidateOnStart();
        services.AddDataProtectionKeyRing();
        return builder;
    }
}

/// <summary>
/// Where the platform's secret keys come from. Production passes each one in configuration (environment variables filled
/// from a secret store: Crowd__Clips__MasterKey, Crowd__Keys__DataProtection, Crowd__Keys__Audit). A single machine
/// without them generates each key once into the keys folder (mode 0700, files 0600), which is kept apart from the clips
/// the keys protect: a copy of the clips folder or bucket alone reveals nothing.
/// </summary>
public sealed class KeyFiles(IOptions<CrowdOptions> options, IHostEnvironment environment, ILogger<KeyFiles> logger)
{
    public const int KeySize = 32;

    public string DataDirectory { get; } = Path.Combine(CrowdDatabase.RepositoryRoot(environment.ContentRootPath), options.Value.DataDirectory);

    public string Directory => Path.GetFullPath(Path.Combine(DataDirectory, options.Value.Keys.Directory));

    /// <summary>
    /// The configured key (base64 of 32 bytes), else the one in the keys folder, else a new one written there. A key
    /// found at <paramref name="formerFile"/> (where earlier versions kept it) is moved into the keys folder first.
    /// </summary>
    public byte[] Load(string fileName, string? configured, string setting, string? formerFile = null)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Decode(configured, setting);
        }
        var file = Path.Combine(Directory, fileName);
        CreateDirectory();
        if (!File.Exists(file) && formerFile is not null && File.Exists(formerFile))
        {
            TryMove(formerFile, file);
        }
        if (File.Exists(file))
        {
            return Decode(File.ReadAllText(file), file);
        }
        var key = RandomNumberGenerator.GetBytes(KeySize);
        // Written aside and renamed without overwriting: two nodes or test hosts starting together agree on one key.
        var temporary = file + "." + Guid.NewGuid().ToString("N") + ".partial";
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temporary, create))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(Convert.ToBase64String(key));
        }
        if (!TryMove(temporary, file))
        {
            File.Delete(temporary);
            return Decode(File.ReadAllText(file), file);
        }
        logger.LogWarning("No {Setting} configured: generated a key in {File}. In production, supply it from a secret store.", setting, file);
        return key;
    }

    /// <summary>Null when keys and clips are kept apart; else what is wrong, in words for the operator.</summary>
    public static string? PlacementProblem(CrowdOptions options)
    {
        // Both folders are relative to the data directory (or absolute); any common base compares them alike.
        var data = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, options.DataDirectory));
        var keys = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(data, options.Keys.Directory)));
        var clips = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(data, options.Clips.Directory)));
        return Within(keys, clips) || Within(clips, keys)
            ? $"Crowd:Keys:Directory ({options.Keys.Directory}) and Crowd:Clips:Directory ({options.Clips.Directory}) overlap. Keep the keys apart from the clips they protect, so that a copy of one does not carry the other."
            : null;
    }

    private static bool Within(string path, string folder) =>
        path.Equals(folder, StringComparison.Ordinal) || path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private void CreateDirectory()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            return;
        }
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static bool TryMove(string from, string to)
    {
        try
        {
            File.Move(from, to, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(to))
        {
            return false;
        }
    }

    private static byte[] Decode(string base64, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{source} must hold base64 of {KeySize} random bytes.");
        }
        return key.Length == KeySize ? key : throw new InvalidOperationException($"{source} must hold base64 of {KeySize} random bytes.");
    }
}

/// <summary>Refuses to start with the keys folder inside the clips folder, or the other way round.</summary>
public sealed class KeyPlacement : IValidateOptions<CrowdOptions>
{
    public ValidateOptionsResult Validate(string? name, CrowdOptions options) =>
        KeyFiles.PlacementProblem(options) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
