// dotnet run -c Release --project tests/Crowd.Benchmarks -- payouts [contributors]
// dotnet run -c Release --project tests/Crowd.Benchmarks -- export [clips] [seconds per clip]
return args switch
{
    ["payouts", .. var rest] => await Crowd.Benchmarks.PayoutCommand.RunAsync(rest),
    ["export", .. var rest] => await Crowd.Benchmarks.ExportCommand.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Crowd.Benchmarks payouts [contributors=100000] | export [clips=10000] [seconds=3]");
    return 2;
}
