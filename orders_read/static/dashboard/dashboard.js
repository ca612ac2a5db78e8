/* Draw the dashboard's charts with the vendored Chart.js from the figures the page embeds
   (json_script "dashboard-data"). Without JavaScript or Chart.js the tables carry the same data. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var Chart = window.Chart;
  var data = JSON.parse(source.textContent);
  var scale = Math.pow(10, data.currency_exponent);
  var money = new Intl.NumberFormat("en", { style: "currency", currency: data.currency });
  var moneyAxis = new Intl.NumberFormat("en", {
    style: "currency", currency: data.currency, notation: "compact", maximumFractionDigits: 1
  });
  var count = new Intl.NumberFormat("en");
  var ink = "#1f2933";
  var grid = "#e4e7eb";
  var colours = {
    revenue: "#0b5cad",
    kept: "#0b5cad",
    cancelled: "#c2410c",
    PENDING: "#b7791f",
    CONFIRMED: "#0b5cad",
    SHIPPED: "#6b46c1",
    DELIVERED: "#1a7f37",
    CANCELLED: "#b42318"
  };

  Chart.defaults.color = ink;
  Chart.defaults.borderColor = grid;
  Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.animation = false; /* steady for screenshots and for people who dislike motion */
  Chart.defaults.maintainAspectRatio = false;

  function dayLabel(iso) {
    var parts = iso.split("-");
    var date = new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2]));
    return date.toLocaleDateString("en", { timeZone: "UTC", day: "numeric", month: "short" });
  }

  function dayTitle(items) {
    return items.length ? items[0].label + " (UTC)" : "";
  }

  function axisTitle(text) {
    return { display: true, text: text, color: ink, font: { weight: "600" } };
  }

  var days = data.days;
  var dayAxis = {
    title: axisTitle("Day (UTC)"),
    grid: { display: false },
    ticks: {
      autoSkip: true,
      maxRotation: 0,
      maxTicksLimit: 10,
      callback: function (value) { return dayLabel(days[value]); }
    }
  };

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) {
      new Chart(canvas, config);
    }
  }

  draw("chart-revenue-canvas", {
    type: "line",
    data: {
      labels: days,
      datasets: [{
        label: "Revenue",
        data: data.revenue.map(function (minor) { return minor / scale; }),
        borderColor: colours.revenue,
        backgroundColor: "rgba(11, 92, 173, 0.12)",
        fill: true,
        tension: 0.25,
        pointRadius: days.length > 45 ? 0 : 3,
        pointHitRadius: 8
      }]
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: {
        x: dayAxis,
        y: {
          beginAtZero: true,
          title: axisTitle("Revenue (" + data.currency + ")"),
          ticks: { callback: function (value) { return moneyAxis.format(value); } }
        }
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: dayTitle,
            label: function (item) { return "Revenue: " + money.format(item.parsed.y); }
          }
        }
      }
    }
  });

  draw("chart-orders-canvas", {
    type: "bar",
    data: {
      labels: days,
      datasets: [
        {
          label: "Kept",
          data: data.orders.map(function (orders, i) { return orders - data.cancellations[i]; }),
          backgroundColor: colours.kept
        },
        {
          label: "Cancelled",
          data: data.cancellations,
          backgroundColor: colours.cancelled
        }
      ]
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: {
        x: Object.assign({}, dayAxis, { stacked: true }),
        y: {
          stacked: true,
          beginAtZero: true,
          title: axisTitle("Orders placed"),
          ticks: { precision: 0, callback: function (value) { return count.format(value); } }
        }
      },
      plugins: {
        legend: { position: "top", align: "end" },
        tooltip: {
          callbacks: {
            title: dayTitle,
            label: function (item) { return item.dataset.label + ": " + count.format(item.parsed.y); },
            footer: function (items) {
              var total = items.reduce(function (sum, item) { return sum + item.parsed.y; }, 0);
              return "Orders: " + count.format(total);
            }
          }
        }
      }
    }
  });

  draw("chart-status-canvas", {
    type: "bar",
    data: {
      labels: data.statuses.map(function (status) { return status.charAt(0) + status.slice(1).toLowerCase(); }),
      datasets: [{
        label: "Orders",
        data: data.status_counts,
        backgroundColor: data.statuses.map(function (status) { return colours[status]; })
      }]
    },
    options: {
      indexAxis: "y",
      scales: {
        x: { beginAtZero: true, title: axisTitle("Orders"), ticks: { precision: 0 } },
        y: { grid: { display: false } }
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: { label: function (item) { return "Orders: " + count.format(item.parsed.x); } }
        }
      }
    }
  });
})();
