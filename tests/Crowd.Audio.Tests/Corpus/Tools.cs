using System.Diagnostics;

namespace Crowd.Audio.Tests.Corpus;

/// <summary>Runs sox and espeak-ng; the project's test script installs both before the tests run.</summary>
internal static class Tools
{
    public static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process? started;
        try
        {
            started = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} is not on PATH; scripts/setup --tests installs sox and espeak-ng.", e);
        }

        using var process = started ?? throw new InvalidOperationException($"Could not start {program}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout + stderr.Result;
    }

    public static void Sox(params string[] arguments) => Run("sox", arguments);
}
