using System.CommandLine;

var root = new RootCommand("Crowd command-line tools");
return await root.Parse(args).InvokeAsync();
