<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title><?cs var:Page.title ?> – <?cs var:Config.issuer ?></title>
<link rel="stylesheet" href="/static/style.css">
<link rel="stylesheet" href="/static/pages.css">
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="site">
  <div class="wrap bar">
    <a class="brand" href="/"><span class="mark" aria-hidden="true"></span><span class="issuer"><?cs var:Config.issuer ?></span> <span class="product">Token portal</span></a>
<?cs if:Session.level == 1 ?>
    <nav class="main" aria-label="Main">
      <ul>
        <li><a href="/"<?cs if:Page.nav == "tokens" ?> aria-current="page"<?cs /if ?>>My tokens</a></li>
        <li><a href="/enroll/totp"<?cs if:Page.nav == "enroll" ?> aria-current="page"<?cs /if ?>>Add a token</a></li>
<?cs # The Helpdesk entry (for Session.helpdesk == 1) comes with the helpdesk pages. ?>
      </ul>
      <form class="signout" method="post" action="/logout">
        <?cs call:csrf() ?>
        <span class="who" title="Signed in"><?cs var:Session.display_name ?><?cs if:Session.helpdesk == 1 ?> <span class="role">Helpdesk</span><?cs /if ?></span>
        <button type="submit" class="linklike">Sign out</button>
      </form>
    </nav>
<?cs /if ?>
  </div>
</header>
<main id="main" class="wrap">
<?cs if:Msg ?>
  <div class="msg msg-<?cs if:Msg.kind == "warn" ?>warn<?cs else ?>ok<?cs /if ?>" role="status"><?cs var:Msg ?></div>
<?cs /if ?>
<?cs call:content() ?>
</main>
<footer class="site">
  <div class="wrap">
    <p><?cs var:Config.issuer ?> token portal. Lost your phone or token? Contact the helpdesk.</p>
  </div>
</footer>
</body>
</html>
