// Message catalogue and language helpers of the agent console (the visitor widget carries its
// own small catalogue, because it must run on foreign pages as one classic script).
//
// Every string the console shows comes from here; `t(key, params)` fills `{name}` placeholders.
// Values are always inserted with textContent by the callers, never parsed as HTML.

const STORAGE_KEY = 'switchboard.console.lang';

export const LANGUAGES = [
  { code: 'en', label: 'English', short: 'EN' },
  { code: 'zh-CN', label: '简体中文', short: '中文' },
];

export const CATALOGUE = {
  en: {
    'app.name': 'Switchboard',
    'app.tagline': 'Customer conversations, in one calm place.',
    'title.base': 'Switchboard',
    'title.new': '({count}) New message — Switchboard',

    'login.heading': 'Sign in to your workspace',
    'login.email': 'Email',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.submitting': 'Signing in…',
    'login.invalid': 'That email and password don’t match. Please try again.',
    'login.failed': 'Could not reach Switchboard. Check your connection and try again.',
    'login.expired': 'Your session has ended. Please sign in again.',
    'login.missing': 'Enter your email and password.',
    'login.disabled': 'This account is disabled. Ask an administrator to enable it.',

    'lang.label': 'Language',
    'lang.switch': 'Switch language',

    'status.label': 'Availability',
    'status.online': 'Online',
    'status.away': 'Away',
    'status.offline': 'Offline',

    'connection.label': 'Connection',
    'connection.connecting': 'Connecting…',
    'connection.connected': 'Connected',
    'connection.reconnecting': 'Reconnecting…',
    'connection.offline': 'Offline',

    'logout': 'Log out',

    'queue.title': 'Queue',
    'queue.empty': 'Nobody is waiting.',
    'queue.unavailable': 'The queue can’t be loaded right now.',
    'queue.visitor': 'Conversation {id}',
    'queue.waiting': 'Waiting {duration}',
    'queue.department': 'Department {id}',
    'queue.hint': 'Go Online to receive waiting conversations automatically, or press Take to answer one now.',
    'queue.take': 'Take',
    'queue.taking': 'Taking…',
    'queue.takeLabel': 'Take the conversation with {name}',
    'claim.error.already_assigned': 'Someone else has already taken this conversation.',
    'claim.error.at_capacity': 'You already have as many open conversations as you can take. Close one first.',
    'claim.error.not_in_department': 'This conversation waits for a department you are not a member of.',
    'claim.error.not_available': 'You are Offline. Set yourself Online or Away to take conversations.',
    'claim.error.conversation_closed': 'This conversation has already ended.',
    'claim.error.conversation_not_found': 'This conversation no longer exists.',

    'conversations.title': 'My conversations',
    'sidebar.label': 'Queue and conversations',
    'conversations.empty': 'No conversations assigned to you yet.',
    'conversations.unread': '{count} unread',
    'conversations.noMessages': 'No messages yet',
    'conversations.you': 'You: {text}',
    'conversations.typing': 'typing…',

    'visitor.short': 'Visitor {id}',
    'visitor.label': 'Visitor',

    'conv.queued': 'Waiting',
    'conv.assigned': 'Active',
    'conv.closed': 'Closed',
    'conv.transferred': 'Transferred',

    'thread.empty.title': 'No conversation selected',
    'thread.empty.body': 'Choose a conversation on the left, or go Online to receive new ones.',
    'thread.back': 'Back to conversations',
    'thread.close': 'Close conversation',
    'thread.closed': 'This conversation is closed.',
    'thread.typing': '{name} is typing…',
    'thread.messages': 'Messages',

    'reply.placeholder': 'Write a reply…',
    'reply.hint': 'Enter to send, Shift+Enter for a new line',
    'reply.label': 'Reply',
    'reply.send': 'Send',

    'message.sending': 'Sending…',
    'message.sent': 'Sent',
    'message.failed': 'Not sent',
    'message.retry': 'Retry',
    'message.you': 'You',

    'notice.empty': 'Type a message before sending.',
    'notice.tooLong': 'This message is too long ({bytes} of {max} bytes). Please shorten it.',
    'notice.dismiss': 'Dismiss',

    'error.rate_limited': 'You’re sending too fast. Please wait a moment.',
    'error.message_too_long': 'That message is too long.',
    'error.empty_message': 'Type a message before sending.',
    'error.conversation_closed': 'This conversation is already closed.',
    'error.conversation_not_found': 'This conversation no longer exists.',
    'error.not_assigned': 'This conversation is no longer assigned to you.',
    'error.unavailable': 'The service is briefly unavailable. Retrying…',
    'error.invalid_token': 'Your session has ended. Please sign in again.',
    'error.internal': 'Something went wrong on our side. Please try again.',
    'error.generic': 'Something went wrong. Please try again.',
    'error.messageFailed': 'This reply couldn’t be sent. Press Retry to try again.',

    'duration.seconds': '{n}s',
    'duration.minutes': '{n} min',
    'duration.hours': '{n} h',

    'queue.departmentNamed': 'Department: {name}',

    'dialog.close': 'Close',
    'dialog.cancel': 'Cancel',
    'dialog.done': 'Done',

    // Transfer
    'transfer.open': 'Transfer',
    'announce.region': 'Announcements',
    'announce.from': 'Announcement from {name}',
    'announce.dismiss': 'Dismiss announcement',
    'offline.badge': 'Offline message',
    'offline.replyTo': 'Reply by email:',
    'offline.listBadge': 'Offline',
    'close.title': 'Close this conversation?',
    'close.rate': 'Close and ask for a rating',
    'close.plain': 'Close without rating',
    'close.cancel': 'Cancel',
    'message.seen': 'Seen',
    'message.trace': 'Trace',
    'transfer.title': 'Transfer conversation',
    'transfer.subtitle': 'Hand {name} over to a colleague or a department.',
    'transfer.agents': 'To a colleague',
    'transfer.departments': 'To a department’s queue',
    'transfer.departmentsHint': 'The conversation goes to the front of the department’s queue.',
    'transfer.loading': 'Loading colleagues and departments…',
    'transfer.unavailable': 'Colleagues and departments can’t be loaded right now. Retrying…',
    'transfer.noAgents': 'No colleagues in this workspace yet.',
    'transfer.noDepartments': 'This workspace has no departments.',
    'transfer.load': '{load} of {max} conversations',
    'transfer.full': 'full ({load} of {max})',
    'transfer.note': 'Note for the next agent (optional)',
    'transfer.noteHint': 'Internal: only agents see it, the visitor never does.',
    'transfer.submit': 'Transfer',
    'transfer.submitting': 'Transferring…',
    'transfer.done.agent': 'Conversation transferred to {name}.',
    'transfer.done.department': 'Conversation transferred to the {name} queue.',
    'transfer.error.choose': 'Choose a colleague or a department.',
    'transfer.error.target_not_found': 'This colleague or department no longer exists. The list has been updated.',
    'transfer.error.at_capacity': '{name} can’t take more conversations right now. Choose someone else or a department.',
    'transfer.error.not_available': '{name} is offline now. Choose someone who is Online or Away, or a department.',
    'transfer.error.invalid_frame': 'This transfer isn’t possible.',
    'transfer.error.message_too_long': 'The note is too long. Please shorten it.',
    'transfer.error.rate_limited': 'You’re going too fast. Please wait a moment and try again.',
    'transfer.error.timeout': 'Switchboard didn’t answer. Check whether the conversation is still in your list before trying again.',
    'transfer.error.disconnected': 'The connection dropped before the transfer was confirmed. Check whether the conversation is still in your list before trying again.',
    'transfer.error.failed': 'The transfer didn’t go through. Please try again.',

    // Internal notes
    'compose.label': 'Write',
    'compose.reply': 'Reply',
    'compose.note': 'Internal note',
    'note.badge': 'Internal note',
    'note.label': 'Internal note',
    'note.placeholder': 'Internal note — only agents see it…',
    'note.hint': 'Only agents see notes. The visitor never does.',
    'note.send': 'Add note',
    'note.saving': 'Adding…',
    'note.empty': 'Type a note before adding it.',
    'note.error.unconfirmed': 'The note wasn’t confirmed. If it doesn’t appear once reconnected, add it again.',
    'note.error.failed': 'The note couldn’t be added. Please try again.',

    // Tags
    'tags.label': 'Tags',
    'tags.add': 'Add a tag',
    'tags.addShort': 'Add',
    'tags.placeholder': 'Add a tag…',
    'tags.remove': 'Remove tag {tag}',
    'tags.error.invalid': 'A tag has 1 to 32 characters.',
    'tags.error.tooMany': 'A conversation has at most 20 tags.',
    'tags.error.failed': 'The tags couldn’t be saved. Please try again.',

    // Saved replies
    'canned.open': 'Saved replies',
    'canned.manage': 'Manage saved replies',
    'canned.title': 'Saved replies',
    'canned.subtitle': 'Type / and a shortcut in the reply box to insert one.',
    'canned.matches': '{count} saved replies match. Up and down arrows to choose, Enter to insert, Escape to close.',
    'canned.matches.one': '1 saved reply matches. Enter to insert, Escape to close.',
    'canned.sharedBadge': 'Shared',
    'canned.loading': 'Loading saved replies…',
    'canned.unavailable': 'Saved replies can’t be loaded right now.',
    'canned.mine': 'Mine',
    'canned.shared': 'Shared with the workspace',
    'canned.emptyMine': 'You have no saved replies yet.',
    'canned.emptyShared': 'Nothing is shared with the workspace yet.',
    'canned.newTitle': 'New saved reply',
    'canned.editTitle': 'Edit /{shortcut}',
    'canned.shortcut': 'Shortcut',
    'canned.shortcutHint': '1 to 32 of a–z, 0–9, - and _.',
    'canned.scope': 'Who can use it',
    'canned.scope.personal': 'Only me',
    'canned.scope.workspace': 'Everyone in the workspace',
    'canned.text': 'Text',
    'canned.add': 'Add reply',
    'canned.saveEdit': 'Save changes',
    'canned.saving': 'Saving…',
    'canned.cancelEdit': 'Cancel editing',
    'canned.saved': 'Saved /{shortcut}.',
    'canned.deleted': 'Deleted /{shortcut}.',
    'canned.edit': 'Edit',
    'canned.editLabel': 'Edit /{shortcut}',
    'canned.delete': 'Delete',
    'canned.deleteLabel': 'Delete /{shortcut}',
    'canned.keep': 'Keep',
    'canned.confirmDelete': 'Delete /{shortcut}?',
    'canned.error.shortcut': 'The shortcut has 1 to 32 of a–z, 0–9, - and _.',
    'canned.error.taken': 'You already have a saved reply with this shortcut.',
    'canned.error.textMissing': 'Enter the reply’s text.',
    'canned.error.text': 'The text is too long (at most 4096 bytes).',
    'canned.error.forbidden': 'Only administrators and supervisors can change shared replies.',
    'canned.error.gone': 'This saved reply no longer exists.',
    'canned.error.network': 'Could not reach Switchboard. Check your connection and try again.',

    // Admin dashboard (/admin)
    'title.admin': 'Admin — Switchboard',
    'admin.badge': 'Admin',
    'admin.login.heading': 'Sign in to the admin dashboard',
    'admin.console': 'Agent console',
    'admin.loading': 'Loading the dashboard…',
    'admin.main': 'Admin dashboard',

    'admin.live.connecting': 'Loading…',
    'admin.live.connected': 'Live',
    'admin.live.reconnecting': 'Reconnecting…',
    'admin.live.offline': 'Offline',
    'admin.live.updated': 'Live data, updated {time}',
    'admin.live.stale': 'Can’t reach Switchboard; showing data from {time}',

    'admin.forbidden.title': 'Administrators only',
    'admin.forbidden.bodyNamed': 'You’re signed in as {name}, who is not an administrator of this workspace. Ask an administrator for access, or keep working in the agent console.',
    'admin.forbidden.body': 'This dashboard is for workspace administrators. Ask an administrator for access, or keep working in the agent console.',
    'admin.forbidden.console': 'Open the agent console',
    'admin.forbidden.switch': 'Sign in with another account',

    'admin.overview.title': 'Live overview',
    'admin.overview.subtitle': 'Refreshed every 3 seconds.',
    'admin.metric.agentsOnline': 'Agents online',
    'admin.metric.agentsTotal': 'of {total} agents',
    'admin.metric.queueLength': 'Waiting in queue',
    'admin.metric.queueEmpty': 'Nobody is waiting',
    'admin.metric.queueWaiting': 'Visitors waiting for an agent',
    'admin.metric.longestWait': 'Longest wait',
    'admin.metric.longestWaitHint': 'Oldest visitor in the queue',
    'admin.metric.openConversations': 'Open conversations',
    'admin.metric.assigned': '{count} with an agent',
    'admin.metric.messages': 'Messages per minute',
    'admin.metric.messagesHint': 'Sent in the last minute',
    'admin.gateways.title': 'Connected per gateway',
    'admin.gateways.visitors': '{count} visitors',
    'admin.gateways.visitorsOne': '1 visitor',
    'admin.gateways.agents': '{count} agents',
    'admin.gateways.agentsOne': '1 agent',
    'admin.gateways.none': 'No gateway has reported yet.',

    'admin.agents.title': 'Agents',
    'admin.agents.new': 'New agent',
    'admin.agents.empty': 'No agents yet.',
    'admin.agents.unavailable': 'Agents can’t be loaded right now. Retrying…',
    'admin.agents.you': 'You',
    'admin.agents.none': 'None',
    'admin.agents.noneHint': 'No department: receives only conversations without a department',
    'admin.agents.load': '{load} of {max} conversations',
    'admin.col.name': 'Name',
    'admin.col.role': 'Role',
    'admin.col.status': 'Status',
    'admin.col.load': 'Load',
    'admin.col.departments': 'Departments',

    'role.admin': 'Administrator',
    'role.agent': 'Agent',

    'admin.departments.title': 'Departments',
    'admin.departments.empty': 'No departments yet. Add one to group agents by team.',
    'admin.departments.members.one': '1 agent',
    'admin.departments.members.other': '{count} agents',
    'admin.departments.name': 'New department',
    'admin.departments.placeholder': 'e.g. Sales',
    'admin.departments.add': 'Add',
    'admin.departments.adding': 'Adding…',
    'admin.departments.missing': 'Enter a name for the department.',
    'admin.departments.duplicate': 'A department with this name already exists.',
    'admin.departments.added': 'Department “{name}” added.',

    'admin.form.title': 'New agent',
    'admin.form.subtitle': 'They sign in to the agent console with this email and password.',
    'admin.form.name': 'Name',
    'admin.form.email': 'Email',
    'admin.form.password': 'Password',
    'admin.form.passwordHint': 'At least 8 characters.',
    'admin.form.role': 'Role',
    'admin.form.max': 'Max. concurrent conversations',
    'admin.form.maxHint': 'From 1 to 100.',
    'admin.form.departments': 'Departments',
    'admin.form.departmentsHint': 'A department’s conversations go only to its agents; conversations without a department go to anyone.',
    'admin.form.noDepartments': 'No departments yet. You can add them in the Departments card.',
    'admin.form.cancel': 'Cancel',
    'admin.form.close': 'Close',
    'admin.form.submit': 'Create agent',
    'admin.form.submitting': 'Creating…',
    'admin.form.created': '{name} was added and can sign in now.',
    'admin.form.error.name': 'Enter the agent’s name.',
    'admin.form.error.email': 'Enter a valid email address, such as name@company.com.',
    'admin.form.error.password': 'The password must have at least 8 characters.',
    'admin.form.error.max': 'Max. concurrent conversations must be a whole number from 1 to 100.',
    'admin.form.error.tooLong': '{field} is too long (at most 200 characters).',
    'admin.form.error.exists': 'An agent with this email already exists.',
    'admin.form.error.department': 'A selected department no longer exists. Please check the list.',
    'admin.form.error.field': '{field}: {message}',

    // Editing agents and departments
    'duration.days': '{n} d',
    'role.supervisor': 'Supervisor',
    'admin.col.skills': 'Skills',
    'admin.col.actions': 'Actions',
    'admin.agents.edit': 'Edit',
    'admin.agents.editLabel': 'Edit {name}',
    'admin.agents.disabled': 'Disabled',
    'admin.form.skills': 'Skills',
    'admin.form.skillsPlaceholder': 'e.g. billing, spanish',
    'admin.form.skillsHint': 'Separated by commas. Departments can require skills.',
    'admin.form.error.skillLength': 'Each skill must be 1 to 64 characters long.',
    'admin.form.error.skillCount': 'At most 50 skills.',
    'admin.error.rateLimited': 'Too many changes at once. Please wait a moment and try again.',

    'admin.edit.title': 'Edit agent',
    'admin.edit.submit': 'Save changes',
    'admin.edit.saving': 'Saving…',
    'admin.edit.saved': 'Changes to {name} saved.',
    'admin.edit.disabled': 'Account disabled',
    'admin.edit.disabledHint': 'A disabled agent can’t sign in; saving signs them out and sets them Offline.',
    'admin.edit.disabledDone': '{name} is disabled and was signed out.',
    'admin.edit.enabledDone': '{name} is enabled and can sign in again.',
    'admin.edit.selfHint': 'This is your own account: you can’t change your role or disable it here.',
    'admin.edit.gone': 'This agent no longer exists.',

    'admin.password.title': 'Reset password',
    'admin.password.label': 'New password',
    'admin.password.placeholder': 'New password',
    'admin.password.hint': 'At least 8 characters. Ends the agent’s open sessions.',
    'admin.password.submit': 'Set password',
    'admin.password.saving': 'Setting…',
    'admin.password.done': 'New password set for {name}. Their open sessions were ended.',

    'admin.departments.new': 'New',
    'admin.dept.newTitle': 'New department',
    'admin.dept.editTitle': 'Edit department',
    'admin.dept.subtitle': 'How this department’s waiting conversations reach its agents.',
    'admin.dept.create': 'Create department',
    'admin.dept.saved': 'Department “{name}” saved.',
    'admin.dept.gone': 'This department no longer exists.',
    'admin.dept.editLabel': 'Edit department {name}',
    'admin.dept.name': 'Name',
    'admin.dept.strategy': 'Routing strategy',
    'admin.dept.sticky': 'Sticky window',
    'admin.dept.stickyAmount': 'Sticky window length',
    'admin.dept.stickyUnit': 'Unit',
    'admin.dept.stickyHint': 'A returning visitor goes back to the agent who last helped them, if they come back within this time. 0 turns it off; at most 30 days.',
    'admin.dept.stickyShort': 'sticky {duration}',
    'admin.dept.skills': 'Required skills',
    'admin.dept.skillsHint': 'Separated by commas. Only agents with every one of these skills receive this department’s conversations.',
    'admin.dept.skillsShort': 'needs {skills}',
    'admin.dept.error.sticky': 'The sticky window must be a whole number from 0 (off) up to 30 days.',
    'strategy.least_loaded': 'Least loaded',
    'strategy.round_robin': 'Round robin',
    'strategy.longest_idle': 'Longest idle',
    'strategy.least_loaded.hint': 'The agent with the fewest open conversations gets the next one.',
    'strategy.round_robin.hint': 'Agents take turns, one conversation each.',
    'strategy.longest_idle.hint': 'The agent who has waited longest since their last conversation gets the next one.',
    'unit.seconds': 'seconds',
    'unit.minutes': 'minutes',
    'unit.hours': 'hours',
    'unit.days': 'days',

    'admin.hours.title': 'Business hours',
    'admin.hours.always': 'Always open',
    'admin.hours.set': 'Set opening hours',
    'admin.hours.hint': 'Outside these hours visitors can leave a message with their email instead of chatting.',
    'admin.hours.timeZone': 'Time zone',
    'admin.hours.timeZoneHint': 'An IANA name, such as Asia/Shanghai or Europe/London. Times are local to it.',
    'admin.hours.days': 'Opening hours per day',
    'admin.hours.opens': '{day} opens at',
    'admin.hours.closes': '{day} closes at',
    'admin.hours.closed': 'Closed',
    'admin.hours.closedLabel': '{day} closed',
    'admin.hours.multi': 'Some days have more than one opening interval (set through the API). They are kept unless you change the hours here, which saves one interval per day.',
    'admin.hours.error.zoneMissing': 'Enter a time zone, such as Asia/Shanghai.',
    'admin.hours.error.zone': '“{zone}” is not a known time zone. Use an IANA name such as Asia/Shanghai.',
    'admin.hours.error.zoneServer': 'The server does not know this time zone. Use an IANA name such as Asia/Shanghai.',
    'admin.hours.error.time': '{day}: enter the opening and closing times as HH:MM.',
    'admin.hours.error.order': '{day}: the closing time must be later than the opening time.',
    'admin.hours.error.orderServer': 'Each closing time must be later than its opening time (split a night shift over two days).',
    'admin.hours.summary': 'open {hours} ({zone})',
    'admin.hours.summaryClosed': 'closed every day ({zone})',
    'admin.hours.separator': '; ',
    'weekday.short.1': 'Mon',
    'weekday.short.2': 'Tue',
    'weekday.short.3': 'Wed',
    'weekday.short.4': 'Thu',
    'weekday.short.5': 'Fri',
    'weekday.short.6': 'Sat',
    'weekday.short.7': 'Sun',
    'weekday.long.1': 'Monday',
    'weekday.long.2': 'Tuesday',
    'weekday.long.3': 'Wednesday',
    'weekday.long.4': 'Thursday',
    'weekday.long.5': 'Friday',
    'weekday.long.6': 'Saturday',
    'weekday.long.7': 'Sunday',

    'admin.announce.title': 'Announcement',
    'admin.announce.hint': 'Shown at once in the console of every agent who has it open. It is not kept: whoever opens the console later does not see it.',
    'admin.announce.text': 'Message',
    'admin.announce.placeholder': 'e.g. The warehouse closes early today, at 16:00.',
    'admin.announce.to': 'Send to',
    'admin.announce.everyone': 'All agents',
    'admin.announce.submit': 'Send',
    'admin.announce.sending': 'Sending…',
    'admin.announce.count': '{count} / {max}',
    'admin.announce.error.empty': 'Write the announcement first.',
    'admin.announce.error.long': 'An announcement can have at most {max} characters (this one has {count}).',
    'admin.announce.error.department': 'This department no longer exists. Choose another one.',
    'admin.announce.sent': 'Announcement sent to every agent with the console open.',
    'admin.announce.sentTo': 'Announcement sent to the agents of {name} with the console open.',

    'error.forbidden': 'Only administrators can do this.',
  },

  'zh-CN': {
    'app.name': 'Switchboard',
    'app.tagline': '所有客户对话，尽在一处。',
    'title.base': 'Switchboard',
    'title.new': '({count}) 新消息 — Switchboard',

    'login.heading': '登录您的工作区',
    'login.email': '邮箱',
    'login.password': '密码',
    'login.submit': '登录',
    'login.submitting': '正在登录…',
    'login.invalid': '邮箱或密码不正确，请重试。',
    'login.failed': '无法连接到 Switchboard，请检查网络后重试。',
    'login.expired': '您的会话已结束，请重新登录。',
    'login.missing': '请输入邮箱和密码。',
    'login.disabled': '此账号已被停用，请联系管理员启用。',

    'lang.label': '语言',
    'lang.switch': '切换语言',

    'status.label': '在线状态',
    'status.online': '在线',
    'status.away': '离开',
    'status.offline': '离线',

    'connection.label': '连接',
    'connection.connecting': '正在连接…',
    'connection.connected': '已连接',
    'connection.reconnecting': '正在重新连接…',
    'connection.offline': '网络已断开',

    'logout': '退出登录',

    'queue.title': '排队中',
    'queue.empty': '目前没有人在等待。',
    'queue.unavailable': '暂时无法加载排队列表。',
    'queue.visitor': '对话 {id}',
    'queue.waiting': '已等待 {duration}',
    'queue.department': '部门 {id}',
    'queue.hint': '将状态设为“在线”即可自动接待排队中的对话，也可以点击“接入”立即接待。',
    'queue.take': '接入',
    'queue.taking': '正在接入…',
    'queue.takeLabel': '接入与{name}的对话',
    'claim.error.already_assigned': '此对话已被其他客服接入。',
    'claim.error.at_capacity': '您的接待数已达上限，请先结束一个对话。',
    'claim.error.not_in_department': '此对话在等待您不属于的部门接待。',
    'claim.error.not_available': '您当前为“离线”状态。请将状态设为“在线”或“离开”后再接入对话。',
    'claim.error.conversation_closed': '此对话已结束。',
    'claim.error.conversation_not_found': '此对话已不存在。',

    'conversations.title': '我的对话',
    'sidebar.label': '排队与对话',
    'conversations.empty': '还没有分配给您的对话。',
    'conversations.unread': '{count} 条未读',
    'conversations.noMessages': '暂无消息',
    'conversations.you': '我：{text}',
    'conversations.typing': '正在输入…',

    'visitor.short': '访客 {id}',
    'visitor.label': '访客',

    'conv.queued': '等待中',
    'conv.assigned': '进行中',
    'conv.closed': '已结束',
    'conv.transferred': '已转接',

    'thread.empty.title': '未选择对话',
    'thread.empty.body': '请在左侧选择一个对话，或将状态设为“在线”以接收新对话。',
    'thread.back': '返回对话列表',
    'thread.close': '结束对话',
    'thread.closed': '此对话已结束。',
    'thread.typing': '{name} 正在输入…',
    'thread.messages': '消息',

    'reply.placeholder': '输入回复…',
    'reply.hint': 'Enter 发送，Shift+Enter 换行',
    'reply.label': '回复',
    'reply.send': '发送',

    'message.sending': '发送中…',
    'message.sent': '已发送',
    'message.failed': '发送失败',
    'message.retry': '重试',
    'message.you': '我',

    'notice.empty': '请先输入消息内容。',
    'notice.tooLong': '消息过长（{bytes} / {max} 字节），请删减后再发送。',
    'notice.dismiss': '关闭',

    'error.rate_limited': '发送过于频繁，请稍候再试。',
    'error.message_too_long': '消息过长。',
    'error.empty_message': '请先输入消息内容。',
    'error.conversation_closed': '此对话已结束。',
    'error.conversation_not_found': '此对话已不存在。',
    'error.not_assigned': '此对话已不再分配给您。',
    'error.unavailable': '服务暂时不可用，正在重试…',
    'error.invalid_token': '您的会话已结束，请重新登录。',
    'error.internal': '服务器出现问题，请重试。',
    'error.generic': '出现问题，请重试。',
    'error.messageFailed': '回复未能发送，请点击“重试”。',

    'duration.seconds': '{n} 秒',
    'duration.minutes': '{n} 分钟',
    'duration.hours': '{n} 小时',

    'queue.departmentNamed': '部门：{name}',

    'dialog.close': '关闭',
    'dialog.cancel': '取消',
    'dialog.done': '完成',

    // 转接
    'transfer.open': '转接',
    'announce.region': '公告',
    'announce.from': '{name} 发布的公告',
    'announce.dismiss': '关闭公告',
    'offline.badge': '离线留言',
    'offline.replyTo': '通过邮件回复：',
    'offline.listBadge': '离线',
    'close.title': '要结束此对话吗？',
    'close.rate': '结束并邀请评价',
    'close.plain': '结束，不邀请评价',
    'close.cancel': '取消',
    'message.seen': '已读',
    'message.trace': '追踪 ID',
    'transfer.title': '转接对话',
    'transfer.subtitle': '将{name}转给同事或部门。',
    'transfer.agents': '转给同事',
    'transfer.departments': '转入部门队列',
    'transfer.departmentsHint': '对话将排在该部门队列的最前面。',
    'transfer.loading': '正在加载同事和部门…',
    'transfer.unavailable': '暂时无法加载同事和部门，正在重试…',
    'transfer.noAgents': '此工作区还没有其他客服。',
    'transfer.noDepartments': '此工作区没有部门。',
    'transfer.load': '{load} / {max} 个对话',
    'transfer.full': '已满（{load} / {max}）',
    'transfer.note': '给接手客服的备注（可选）',
    'transfer.noteHint': '内部备注：仅客服可见，访客永远看不到。',
    'transfer.submit': '转接',
    'transfer.submitting': '正在转接…',
    'transfer.done.agent': '对话已转接给{name}。',
    'transfer.done.department': '对话已转入“{name}”队列。',
    'transfer.error.choose': '请选择一位同事或一个部门。',
    'transfer.error.target_not_found': '该同事或部门已不存在，列表已更新。',
    'transfer.error.at_capacity': '{name}目前无法再接待更多对话，请选择其他同事或部门。',
    'transfer.error.not_available': '{name}现在处于离线状态，请选择“在线”或“离开”的同事，或选择部门。',
    'transfer.error.invalid_frame': '无法进行此转接。',
    'transfer.error.message_too_long': '备注过长，请删减后再试。',
    'transfer.error.rate_limited': '操作过于频繁，请稍候再试。',
    'transfer.error.timeout': 'Switchboard 没有响应。请先确认该对话是否仍在您的列表中，再重试。',
    'transfer.error.disconnected': '转接确认前连接已断开。请先确认该对话是否仍在您的列表中，再重试。',
    'transfer.error.failed': '转接未成功，请重试。',

    // 内部备注
    'compose.label': '撰写',
    'compose.reply': '回复',
    'compose.note': '内部备注',
    'note.badge': '内部备注',
    'note.label': '内部备注',
    'note.placeholder': '内部备注，仅客服可见…',
    'note.hint': '备注仅客服可见，访客永远看不到。',
    'note.send': '添加备注',
    'note.saving': '正在添加…',
    'note.empty': '请先输入备注内容。',
    'note.error.unconfirmed': '备注未得到确认。如果重新连接后仍未显示，请再添加一次。',
    'note.error.failed': '备注未能添加，请重试。',

    // 标签
    'tags.label': '标签',
    'tags.add': '添加标签',
    'tags.addShort': '添加',
    'tags.placeholder': '添加标签…',
    'tags.remove': '移除标签 {tag}',
    'tags.error.invalid': '标签须为 1 到 32 个字符。',
    'tags.error.tooMany': '每个对话最多 20 个标签。',
    'tags.error.failed': '标签未能保存，请重试。',

    // 快捷回复
    'canned.open': '快捷回复',
    'canned.manage': '管理快捷回复',
    'canned.title': '快捷回复',
    'canned.subtitle': '在回复框中输入 / 加快捷词即可插入。',
    'canned.matches': '有 {count} 条快捷回复匹配。用上下方向键选择，Enter 插入，Esc 关闭。',
    'canned.matches.one': '有 1 条快捷回复匹配。Enter 插入，Esc 关闭。',
    'canned.sharedBadge': '共享',
    'canned.loading': '正在加载快捷回复…',
    'canned.unavailable': '暂时无法加载快捷回复。',
    'canned.mine': '我的',
    'canned.shared': '工作区共享',
    'canned.emptyMine': '您还没有快捷回复。',
    'canned.emptyShared': '工作区还没有共享的快捷回复。',
    'canned.newTitle': '新建快捷回复',
    'canned.editTitle': '编辑 /{shortcut}',
    'canned.shortcut': '快捷词',
    'canned.shortcutHint': '1 到 32 个字符，可用 a–z、0–9、- 和 _。',
    'canned.scope': '谁可以使用',
    'canned.scope.personal': '仅我自己',
    'canned.scope.workspace': '工作区所有人',
    'canned.text': '内容',
    'canned.add': '添加回复',
    'canned.saveEdit': '保存更改',
    'canned.saving': '正在保存…',
    'canned.cancelEdit': '取消编辑',
    'canned.saved': '已保存 /{shortcut}。',
    'canned.deleted': '已删除 /{shortcut}。',
    'canned.edit': '编辑',
    'canned.editLabel': '编辑 /{shortcut}',
    'canned.delete': '删除',
    'canned.deleteLabel': '删除 /{shortcut}',
    'canned.keep': '保留',
    'canned.confirmDelete': '删除 /{shortcut}？',
    'canned.error.shortcut': '快捷词须为 1 到 32 个字符，只能使用 a–z、0–9、- 和 _。',
    'canned.error.taken': '您已有使用此快捷词的快捷回复。',
    'canned.error.textMissing': '请输入回复内容。',
    'canned.error.text': '内容过长（最多 4096 字节）。',
    'canned.error.forbidden': '只有管理员和主管可以修改共享的快捷回复。',
    'canned.error.gone': '此快捷回复已不存在。',
    'canned.error.network': '无法连接到 Switchboard，请检查网络后重试。',

    // 管理后台（/admin）
    'title.admin': '管理后台 — Switchboard',
    'admin.badge': '管理',
    'admin.login.heading': '登录管理后台',
    'admin.console': '客服工作台',
    'admin.loading': '正在加载管理后台…',
    'admin.main': '管理后台',

    'admin.live.connecting': '加载中…',
    'admin.live.connected': '实时',
    'admin.live.reconnecting': '正在重新连接…',
    'admin.live.offline': '网络已断开',
    'admin.live.updated': '实时数据，更新于 {time}',
    'admin.live.stale': '无法连接到 Switchboard，显示的是 {time} 的数据',

    'admin.forbidden.title': '仅限管理员访问',
    'admin.forbidden.bodyNamed': '您当前以 {name} 的身份登录，该账号不是此工作区的管理员。请联系管理员开通权限，或继续使用客服工作台。',
    'admin.forbidden.body': '此页面仅供工作区管理员使用。请联系管理员开通权限，或继续使用客服工作台。',
    'admin.forbidden.console': '打开客服工作台',
    'admin.forbidden.switch': '使用其他账号登录',

    'admin.overview.title': '实时概览',
    'admin.overview.subtitle': '每 3 秒刷新一次。',
    'admin.metric.agentsOnline': '在线客服',
    'admin.metric.agentsTotal': '共 {total} 名客服',
    'admin.metric.queueLength': '排队人数',
    'admin.metric.queueEmpty': '目前没有人在等待',
    'admin.metric.queueWaiting': '正在等待客服的访客',
    'admin.metric.longestWait': '最长等待',
    'admin.metric.longestWaitHint': '队列中等待最久的访客',
    'admin.metric.openConversations': '进行中的对话',
    'admin.metric.assigned': '{count} 个已分配客服',
    'admin.metric.messages': '每分钟消息数',
    'admin.metric.messagesHint': '最近一分钟内发送',
    'admin.gateways.title': '各网关连接数',
    'admin.gateways.visitors': '{count} 位访客',
    'admin.gateways.visitorsOne': '1 位访客',
    'admin.gateways.agents': '{count} 位客服',
    'admin.gateways.agentsOne': '1 位客服',
    'admin.gateways.none': '尚无网关上报数据。',

    'admin.agents.title': '客服',
    'admin.agents.new': '新建客服',
    'admin.agents.empty': '还没有客服。',
    'admin.agents.unavailable': '暂时无法加载客服列表，正在重试…',
    'admin.agents.you': '我',
    'admin.agents.none': '无',
    'admin.agents.noneHint': '未指定部门：仅接待未指定部门的对话',
    'admin.agents.load': '{load} / {max} 个对话',
    'admin.col.name': '姓名',
    'admin.col.role': '角色',
    'admin.col.status': '状态',
    'admin.col.load': '负载',
    'admin.col.departments': '部门',

    'role.admin': '管理员',
    'role.agent': '客服',

    'admin.departments.title': '部门',
    'admin.departments.empty': '还没有部门。添加部门即可按团队分组客服。',
    'admin.departments.members.one': '1 名客服',
    'admin.departments.members.other': '{count} 名客服',
    'admin.departments.name': '新部门',
    'admin.departments.placeholder': '例如：销售部',
    'admin.departments.add': '添加',
    'admin.departments.adding': '正在添加…',
    'admin.departments.missing': '请输入部门名称。',
    'admin.departments.duplicate': '已存在同名部门。',
    'admin.departments.added': '已添加部门“{name}”。',

    'admin.form.title': '新建客服',
    'admin.form.subtitle': '客服将使用此邮箱和密码登录客服工作台。',
    'admin.form.name': '姓名',
    'admin.form.email': '邮箱',
    'admin.form.password': '密码',
    'admin.form.passwordHint': '至少 8 个字符。',
    'admin.form.role': '角色',
    'admin.form.max': '最大同时接待数',
    'admin.form.maxHint': '1 到 100 之间。',
    'admin.form.departments': '部门',
    'admin.form.departmentsHint': '指定部门的对话只分配给该部门的客服；未指定部门的对话可分配给任何人。',
    'admin.form.noDepartments': '还没有部门，可在“部门”卡片中添加。',
    'admin.form.cancel': '取消',
    'admin.form.close': '关闭',
    'admin.form.submit': '创建客服',
    'admin.form.submitting': '正在创建…',
    'admin.form.created': '已添加 {name}，现在即可登录。',
    'admin.form.error.name': '请输入客服姓名。',
    'admin.form.error.email': '请输入有效的邮箱地址，例如 name@company.com。',
    'admin.form.error.password': '密码至少需要 8 个字符。',
    'admin.form.error.max': '最大同时接待数必须是 1 到 100 之间的整数。',
    'admin.form.error.tooLong': '{field}过长（最多 200 个字符）。',
    'admin.form.error.exists': '已存在使用此邮箱的客服。',
    'admin.form.error.department': '所选部门已不存在，请检查列表。',
    'admin.form.error.field': '{field}：{message}',

    // 编辑客服和部门
    'duration.days': '{n} 天',
    'role.supervisor': '主管',
    'admin.col.skills': '技能',
    'admin.col.actions': '操作',
    'admin.agents.edit': '编辑',
    'admin.agents.editLabel': '编辑{name}',
    'admin.agents.disabled': '已停用',
    'admin.form.skills': '技能',
    'admin.form.skillsPlaceholder': '例如：billing, 英语',
    'admin.form.skillsHint': '用逗号分隔。部门可以要求客服具备某些技能。',
    'admin.form.error.skillLength': '每项技能须为 1 到 64 个字符。',
    'admin.form.error.skillCount': '最多 50 项技能。',
    'admin.error.rateLimited': '操作过于频繁，请稍候再试。',

    'admin.edit.title': '编辑客服',
    'admin.edit.submit': '保存更改',
    'admin.edit.saving': '正在保存…',
    'admin.edit.saved': '已保存对{name}的更改。',
    'admin.edit.disabled': '停用账号',
    'admin.edit.disabledHint': '停用后该客服无法登录；保存后其会话将被结束，状态设为离线。',
    'admin.edit.disabledDone': '已停用{name}，其会话已结束。',
    'admin.edit.enabledDone': '已启用{name}，现在可以重新登录。',
    'admin.edit.selfHint': '这是您自己的账号：不能在此更改自己的角色或停用自己。',
    'admin.edit.gone': '此客服已不存在。',

    'admin.password.title': '重置密码',
    'admin.password.label': '新密码',
    'admin.password.placeholder': '新密码',
    'admin.password.hint': '至少 8 个字符。设置后该客服的已登录会话将被结束。',
    'admin.password.submit': '设置密码',
    'admin.password.saving': '正在设置…',
    'admin.password.done': '已为{name}设置新密码，其已登录会话已结束。',

    'admin.departments.new': '新建',
    'admin.dept.newTitle': '新建部门',
    'admin.dept.editTitle': '编辑部门',
    'admin.dept.subtitle': '设置本部门排队中的对话如何分配给客服。',
    'admin.dept.create': '创建部门',
    'admin.dept.saved': '已保存部门“{name}”。',
    'admin.dept.gone': '此部门已不存在。',
    'admin.dept.editLabel': '编辑部门{name}',
    'admin.dept.name': '名称',
    'admin.dept.strategy': '分配策略',
    'admin.dept.sticky': '回访保持时长',
    'admin.dept.stickyAmount': '回访保持时长数值',
    'admin.dept.stickyUnit': '单位',
    'admin.dept.stickyHint': '访客在此时长内再次咨询时，优先分配给上次接待他的客服。0 表示关闭；最长 30 天。',
    'admin.dept.stickyShort': '回访保持 {duration}',
    'admin.dept.skills': '所需技能',
    'admin.dept.skillsHint': '用逗号分隔。只有具备全部这些技能的客服才会接到本部门的对话。',
    'admin.dept.skillsShort': '需要 {skills}',
    'admin.dept.error.sticky': '回访保持时长必须是 0（关闭）到 30 天之间的整数。',
    'strategy.least_loaded': '最少负载',
    'strategy.round_robin': '轮流分配',
    'strategy.longest_idle': '最久空闲',
    'strategy.least_loaded.hint': '由当前对话最少的客服接待下一个对话。',
    'strategy.round_robin.hint': '客服轮流接待，每人一个对话。',
    'strategy.longest_idle.hint': '由距上次接待时间最长的客服接待下一个对话。',
    'unit.seconds': '秒',
    'unit.minutes': '分钟',
    'unit.hours': '小时',
    'unit.days': '天',

    'admin.hours.title': '营业时间',
    'admin.hours.always': '全天开放',
    'admin.hours.set': '设置营业时间',
    'admin.hours.hint': '非营业时间，访客可以留下消息和邮箱，而不是发起对话。',
    'admin.hours.timeZone': '时区',
    'admin.hours.timeZoneHint': 'IANA 时区名称，例如 Asia/Shanghai 或 Europe/London。下面的时间均为该时区的当地时间。',
    'admin.hours.days': '每日营业时间',
    'admin.hours.opens': '{day}开始时间',
    'admin.hours.closes': '{day}结束时间',
    'admin.hours.closed': '休息',
    'admin.hours.multi': '部分日期有多个营业时段（通过 API 设置）。若不在此修改营业时间，这些时段将保持不变；在此修改后，每天只保存一个时段。',
    'admin.hours.error.zoneMissing': '请输入时区，例如 Asia/Shanghai。',
    'admin.hours.error.zone': '“{zone}”不是有效的时区。请使用 IANA 名称，例如 Asia/Shanghai。',
    'admin.hours.error.zoneServer': '服务器无法识别此时区。请使用 IANA 名称，例如 Asia/Shanghai。',
    'admin.hours.error.time': '{day}：请按 HH:MM 格式填写开始和结束时间。',
    'admin.hours.error.order': '{day}：结束时间必须晚于开始时间。',
    'admin.hours.error.orderServer': '每个时段的结束时间都必须晚于开始时间（跨夜班次请拆成两天）。',
    'admin.hours.summary': '营业 {hours}（{zone}）',
    'admin.hours.summaryClosed': '每天休息（{zone}）',
    'admin.hours.separator': '；',
    'weekday.short.1': '周一',
    'weekday.short.2': '周二',
    'weekday.short.3': '周三',
    'weekday.short.4': '周四',
    'weekday.short.5': '周五',
    'weekday.short.6': '周六',
    'weekday.short.7': '周日',
    'weekday.long.1': '星期一',
    'weekday.long.2': '星期二',
    'weekday.long.3': '星期三',
    'weekday.long.4': '星期四',
    'weekday.long.5': '星期五',
    'weekday.long.6': '星期六',
    'weekday.long.7': '星期日',

    'admin.announce.title': '公告',
    'admin.announce.hint': '立即显示在当前打开控制台的每位客服的页面上。公告不会保留：之后才打开控制台的客服看不到。',
    'admin.announce.text': '内容',
    'admin.announce.placeholder': '例如：今天仓库提前到 16:00 下班。',
    'admin.announce.to': '发送给',
    'admin.announce.everyone': '全部客服',
    'admin.announce.submit': '发送',
    'admin.announce.sending': '正在发送…',
    'admin.announce.count': '{count} / {max}',
    'admin.announce.error.empty': '请先填写公告内容。',
    'admin.announce.error.long': '公告最多 {max} 个字符（当前 {count} 个）。',
    'admin.announce.error.department': '此部门已不存在，请选择其他部门。',
    'admin.announce.sent': '公告已发送给当前打开控制台的全部客服。',
    'admin.announce.sentTo': '公告已发送给{name}当前打开控制台的客服。',

    'error.forbidden': '只有管理员可以执行此操作。',
  },
};

const listeners = new Set();
let current = detectLanguage();

/** Maps any BCP 47 tag to a language of the catalogue (Chinese variants → zh-CN). */
export function normalizeLanguage(tag) {
  const lower = String(tag || '').toLowerCase();
  return lower.startsWith('zh') ? 'zh-CN' : 'en';
}

function readStored() {
  // Storage can throw (privacy modes, sandboxed frames): treat that as "no choice made".
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The saved choice if any, else the browser's language. */
export function detectLanguage() {
  const stored = readStored();
  if (stored && CATALOGUE[stored]) return stored;
  const preferred = (typeof navigator !== 'undefined' && (navigator.languages?.[0] || navigator.language)) || 'en';
  return normalizeLanguage(preferred);
}

export function getLanguage() {
  return current;
}

/** Switches language, remembers it, and tells every listener. */
export function setLanguage(lang) {
  const next = CATALOGUE[lang] ? lang : normalizeLanguage(lang);
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not persisted; the switch still applies to this page.
  }
  if (next === current) return;
  current = next;
  if (typeof document !== 'undefined') document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

/** The other language of the two, for a toggle button. */
export function otherLanguage() {
  return current === 'en' ? 'zh-CN' : 'en';
}

/** Calls `listener(lang)` after every language change; returns an unsubscribe function. */
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Translates `key`, replacing `{param}` placeholders; falls back to English, then the key. */
export function t(key, params = {}) {
  const template = CATALOGUE[current]?.[key] ?? CATALOGUE.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/**
 * Fills static markup: `data-i18n` sets textContent, `data-i18n-placeholder`,
 * `data-i18n-aria-label` and `data-i18n-title` set those attributes.
 */
export function applyTranslations(root = document) {
  for (const element of root.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll('[data-i18n-placeholder]')) {
    element.setAttribute('placeholder', t(element.dataset.i18nPlaceholder));
  }
  for (const element of root.querySelectorAll('[data-i18n-aria-label]')) {
    element.setAttribute('aria-label', t(element.dataset.i18nAriaLabel));
  }
  for (const element of root.querySelectorAll('[data-i18n-title]')) {
    element.setAttribute('title', t(element.dataset.i18nTitle));
  }
}

/** A clock time ("14:05") in the current language. */
export function formatTime(date) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(current, { hour: '2-digit', minute: '2-digit' }).format(date);
}

/** Date and time, for tooltips. */
export function formatDateTime(date) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** A short duration such as "3 min" from milliseconds. */
export function formatDuration(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return t('duration.seconds', { n: seconds });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t('duration.minutes', { n: minutes });
  return t('duration.hours', { n: Math.floor(minutes / 60) });
}

if (typeof document !== 'undefined') document.documentElement.lang = current;
