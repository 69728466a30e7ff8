using System.CommandLine;
using Crowd.Cli.Audio;
using Crowd.Cli.Audit;
using Crowd.Cli.Datasets;

var root = new RootCommand("Crowd command-line tools");
root.Subcommands.Add(AudioCommands.Create());
root.Subcommands.Add(AuditCommands.Create());
root.Subcommands.Add(DatasetCommands.Create());
return await root.Parse(args).InvokeAsync();
