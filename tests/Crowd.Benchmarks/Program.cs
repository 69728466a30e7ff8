// dotnet run -c Release --project tests/Crowd.Benchmarks -- payouts [contributors]
// dotnet run -c Release --project tests/Crowd.Benchmarks -- export [clips] [seconds per clip]
// dotnet run -c Release --project tests/Crowd.Benchmarks -- prompts [count]
// dotnet run -c Release --project tests/Crowd.Benchmarks -- withdrawal [clips]
// dotnet run -c Release --project tests/Crowd.Benchmarks -- recording [--recorders 250,500,1000,2000] [--seconds 20] [--nodes 1|2] [--warm-up 60] [--node-env NAME=VALUE,…]
return args switch
{
    ["payouts", .. var rest] => await Crowd.Benchmarks.PayoutCommand.RunAsync(rest),
    ["export", .. var rest] => await Crowd.Benchmarks.ExportCommand.RunAsync(rest),
    ["prompts", .. var rest] => await Crowd.Benchmarks.PromptsCommand.RunAsync(rest),
    ["withdrawal", .. var rest] => await Crowd.Benchmarks.WithdrawalCommand.RunAsync(rest),
    ["recording", .. var rest] => await Crowd.Benchmarks.RecordingCommand.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Crowd.Benchmarks payouts [contributors=100000] | export [clips=10000] [seconds=3] | prompts [count=100000] | withdrawal [clips=21] | " +
        "recording [--recorders 250,500,1000,2000] [--seconds 20] [--nodes 1|2] [--threads 4] [--take-seconds 10] [--warm-up 60] [--aligned-takes] [--node-env NAME=VALUE,…]");
    return 2;
}
