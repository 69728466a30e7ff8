using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Recording;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddCrowdWeb();
builder.Services.AddCrowdDatabase();
builder.Services.AddCrowdAccounts();
builder.Services.AddCrowdRecording();

var app = builder.Build();
await app.UseCrowdDatabaseAsync();
app.UseCrowdWeb();
app.MapAccounts();
app.MapRecording();
app.MapRazorPages();

app.Run();

public partial class Program;
