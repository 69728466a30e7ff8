using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Crowd.Audio.Tests")]
