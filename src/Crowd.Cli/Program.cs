using System.CommandLine;
using Crowd.Cli.Audio;

var root = new RootCommand("Crowd command-line tools");
root.Subcommands.Add(AudioCommands.Create());
return await root.Parse(args).InvokeAsync();
