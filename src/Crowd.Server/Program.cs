using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Board;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddCrowdWeb();
builder.Services.AddCrowdDatabase();
builder.Services.AddCrowdAccounts();
builder.Services.AddJobs();

var app = builder.Build();
await app.UseCrowdDatabaseAsync();
app.UseCrowdWeb();
app.MapAccounts();
app.MapRateFloors();
app.MapJobs();
app.MapBoard();
app.MapRazorPages();

app.Run();

public partial class Program;
